import { AuditGenerator } from './audit-generator';
import { demoTelemetry } from './demo-telemetry';
import { MICROSOFT_GRAPH_APP_ID, PASSWORD_METHOD_ID } from './persistence';
import { CORDON_PERMISSIONS } from './scenario';
import type { Scenario, SimApp, SimMailMessage, SimTenant, SimAppRoleAssignment, SimDevice, SimPermissionGrant, SimServicePrincipal, SimUser } from './types';

/**
 * The built-in demo: "Contoso Demo" (every licence, an app with a secret and a generated certificate
 * and every permission Cordon needs) and "Fabrikam Basic" (no Entra ID P1/P2: sign-in logs and
 * Identity Protection answer the licence errors). Ids are fixed; timestamps are relative to start.
 */

export const DEMO = {
  contoso: {
    tenantId: '3c1b7a2e-9d4f-4e8a-b1c2-5d6e7f8a9b0c',
    clientId: 'a1f0c3d2-7b6e-4c5d-9e8f-0a1b2c3d4e5f',
    clientSecret: 'contoso-demo-secret~not-for-production',
    domain: 'contosodemo.onmicrosoft.com',
    vanityDomain: 'contoso.example',
  },
  fabrikam: {
    tenantId: '7e2d4c6a-1b3f-4a5e-8c7d-9f0e1a2b3c4d',
    clientId: 'b2e1d4c3-8c7f-4d6e-8f9a-1b2c3d4e5f60',
    clientSecret: 'fabrikam-demo-secret~not-for-production',
    domain: 'fabrikambasic.onmicrosoft.com',
  },
} as const;

export const DEMO_GROUP_FINANCE = 'f1a2b3c4-d5e6-4f70-8a9b-0c1d2e3f4a5b';
/** The group a Conditional Access policy blocks: Cordon's containment group in the demo. */
export const DEMO_GROUP_CONTAINMENT = 'c0a1b2c3-d4e5-4f60-8a7b-8c9d0e1f2a3b';

/**
 * The demo's business-email-compromise victim (Alice, the high-risk user who consented to an app from
 * the attacker's IP, demo-telemetry.ts): what the attacker left behind, by id.
 */
export const DEMO_BEC = {
  userId: '0b7c1e2d-0003-4a00-8000-000000000003',
  userPrincipalName: `alice@${DEMO.contoso.vanityDomain}`,
  forwardingRuleId: 'AQAAAJ5dZqA=',
  newslettersRuleId: 'AQAAAJ5dZqB=',
  hiddenRuleId: 'AQAAAJ5dZqC=',
  externalAddress: 'alice.archive@proton.example',
  maliciousAppId: '9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a',
  maliciousServicePrincipalId: '5d4c3b2a-1908-4f7e-8d6c-5b4a39281706',
  /** A long-standing, verified app assigned to Alice: not persistence, it must survive containment. */
  trustedAppId: '4b3a2918-0716-4f5e-9d4c-3b2a19080706',
  phoneMethodId: '3179e48a-750b-4051-897c-87b9720928f7',
  authenticatorMethodId: 'a6f2c1d0-3b4e-4f5a-8b6c-7d8e9f0a1b2c',
} as const;

/** Graph permissions the BEC containment actions need (microsoft-notes §9), granted only in Contoso Demo. */
export const BEC_PERMISSIONS = [
  'MailboxSettings.ReadWrite',
  'DelegatedPermissionGrant.ReadWrite.All',
  'AppRoleAssignment.ReadWrite.All',
  'UserAuthenticationMethod.ReadWrite.All',
  'GroupMember.ReadWrite.All',
  'Application.ReadWrite.All',
];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * The demo phish (microsoft-notes §15): one send delivered to Bob, Carol and Erin in Contoso Demo (route A:
 * analyzedEmails), and one to Gina and Hank in Fabrikam Basic, which has no Defender for Office 365 and only
 * Mail.ReadWrite (route B: per mailbox). Every mailbox also holds a harmless newsletter.
 */
export const DEMO_PHISH = {
  contoso: {
    networkMessageId: '73ca4154-58d8-43d0-a890-08dc18c52e6d',
    internetMessageId: '<DB9PR01MB7788.phish.4711@mail.payroll-update.example>',
    recipients: [`bob@${DEMO.contoso.vanityDomain}`, `carol@${DEMO.contoso.vanityDomain}`, `erin@${DEMO.contoso.vanityDomain}`],
    subject: 'ACTION REQUIRED: confirm your payroll details',
    from: 'payroll@payroll-update.example',
  },
  fabrikam: {
    networkMessageId: '5b1d9e27-3c4a-4f6b-8e2d-08dc2a7f1b90',
    internetMessageId: '<AM6PR02MB1122.phish.815@mail.invoice-portal.example>',
    recipients: [`gina@${DEMO.fabrikam.domain}`, `hank@${DEMO.fabrikam.domain}`],
    subject: 'Overdue invoice #815 - open the attached statement',
    from: 'billing@invoice-portal.example',
  },
  newsletter: { subject: 'This week at Contoso', from: 'news@contoso.example' },
} as const;

/** Permissions Fabrikam Basic's app has for mail: per-mailbox access only (microsoft-notes §15). */
export const FABRIKAM_MAIL_PERMISSIONS = ['Mail.ReadWrite'];
/** Permissions Contoso Demo's app has for mail: Defender for Office 365 remediation and per-mailbox access. */
export const CONTOSO_MAIL_PERMISSIONS = ['SecurityAnalyzedMessage.ReadWrite.All', 'Mail.ReadWrite'];

/** A mailbox's messages: the newsletter, and the phish when `phish` is given (ids are filled by scenario.ts). */
function mailbox(now: number, index: number, phish?: (typeof DEMO_PHISH)['contoso' | 'fabrikam']): SimMailMessage[] {
  const newsletter = {
    internetMessageId: `<newsletter.${index}@contoso.example>`,
    networkMessageId: `0e1f2a3b-4c5d-4e6f-8a7b-${String(index).padStart(12, '0')}`,
    subject: DEMO_PHISH.newsletter.subject,
    from: DEMO_PHISH.newsletter.from,
    receivedDateTime: new Date(now - 2 * DAY).toISOString(),
  };
  const messages: Array<Partial<SimMailMessage>> = [newsletter];
  if (phish) {
    messages.push({
      internetMessageId: phish.internetMessageId,
      networkMessageId: phish.networkMessageId,
      subject: phish.subject,
      from: phish.from,
      receivedDateTime: new Date(now - 3 * HOUR).toISOString(),
      threatTypes: ['phish'],
    });
  }
  return messages as SimMailMessage[];
}

function contosoUsers(now: number): Array<Partial<SimUser>> {
  const d = DEMO.contoso.vanityDomain;
  const iso = (ms: number) => new Date(ms).toISOString();
  return [
    {
      id: '0b7c1e2d-0001-4a00-8000-000000000001',
      userPrincipalName: `breakglass@${DEMO.contoso.domain}`,
      displayName: 'Break Glass (emergency access)',
      directoryRoles: ['Global Administrator'],
    },
    {
      id: '0b7c1e2d-0002-4a00-8000-000000000002',
      userPrincipalName: `adele.vance@${d}`,
      displayName: 'Adele Vance',
      directoryRoles: ['Security Administrator', 'User Administrator'],
    },
    {
      id: DEMO_BEC.userId,
      userPrincipalName: DEMO_BEC.userPrincipalName,
      displayName: 'Alice Example',
      memberOf: [DEMO_GROUP_FINANCE],
      riskLevel: 'high',
      riskState: 'atRisk',
      riskDetail: 'none',
      riskLastUpdatedDateTime: iso(now - 2 * HOUR),
      ...becPersistence(now),
    },
    {
      id: '0b7c1e2d-0004-4a00-8000-000000000004',
      userPrincipalName: `bob@${d}`,
      displayName: 'Bob Builder',
      memberOf: [DEMO_GROUP_FINANCE],
      riskLevel: 'medium',
      riskState: 'atRisk',
      riskDetail: 'none',
      riskLastUpdatedDateTime: iso(now - DAY),
      messages: mailbox(now, 4, DEMO_PHISH.contoso),
    },
    {
      id: '0b7c1e2d-0005-4a00-8000-000000000005',
      userPrincipalName: `carol@${d}`,
      displayName: 'Carol Danvers',
      messages: mailbox(now, 5, DEMO_PHISH.contoso),
    },
    {
      id: '0b7c1e2d-0006-4a00-8000-000000000006',
      userPrincipalName: `dan@${d}`,
      displayName: 'Dan Jump',
      riskLevel: 'low',
      riskState: 'remediated',
      riskDetail: 'userPerformedSecuredPasswordReset',
      riskLastUpdatedDateTime: iso(now - 3 * DAY),
    },
    { id: '0b7c1e2d-0007-4a00-8000-000000000007', userPrincipalName: `erin@${d}`, displayName: 'Erin Hunter', messages: mailbox(now, 7, DEMO_PHISH.contoso) },
    { id: '0b7c1e2d-0008-4a00-8000-000000000008', userPrincipalName: `frank.former@${d}`, displayName: 'Frank Former', accountEnabled: false },
    {
      id: '0b7c1e2d-0009-4a00-8000-000000000009',
      userPrincipalName: `partner_fabrikam.example#EXT#@${DEMO.contoso.domain}`,
      displayName: 'Pat Partner (Fabrikam)',
      userType: 'Guest',
      mail: 'partner@fabrikam.example',
    },
    {
      id: '0b7c1e2d-0010-4a00-8000-000000000010',
      userPrincipalName: `auditor_auditfirm.example#EXT#@${DEMO.contoso.domain}`,
      displayName: 'Ann Auditor (guest)',
      userType: 'Guest',
      mail: 'ann@auditfirm.example',
    },
  ];
}

/** Alice's mailbox rules and sign-in methods: the attacker's forwarding rule, a hidden rule, a phone added yesterday. */
function becPersistence(now: number): Partial<SimUser> {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    inboxRules: [
      {
        id: DEMO_BEC.forwardingRuleId,
        displayName: '.',
        sequence: 1,
        isEnabled: true,
        conditions: { bodyOrSubjectContains: ['invoice', 'payment', 'wire transfer'] },
        actions: { forwardTo: [{ emailAddress: { name: 'Alice', address: DEMO_BEC.externalAddress } }], markAsRead: true, stopProcessingRules: true },
      },
      {
        id: DEMO_BEC.newslettersRuleId,
        displayName: 'Newsletters',
        sequence: 2,
        isEnabled: true,
        conditions: { senderContains: ['newsletter@'] },
        actions: { markAsRead: true },
      },
      // Graph does not serve it: Cordon must say that hidden rules are out of its sight.
      {
        id: DEMO_BEC.hiddenRuleId,
        displayName: '',
        sequence: 3,
        isEnabled: true,
        hidden: true,
        conditions: { subjectContains: ['security alert'] },
        actions: { delete: true },
      },
    ],
    authMethods: [
      { id: PASSWORD_METHOD_ID, type: 'password', createdDateTime: iso(now - 200 * DAY) },
      {
        id: DEMO_BEC.authenticatorMethodId,
        type: 'microsoftAuthenticator',
        createdDateTime: iso(now - 200 * DAY),
        properties: { displayName: 'iPhone 14', deviceTag: 'SoftwareTokenActivated', phoneAppVersion: '6.8.7' },
      },
      {
        id: DEMO_BEC.phoneMethodId,
        type: 'phone',
        createdDateTime: iso(now - DAY),
        properties: { phoneNumber: '+234 8015550143', phoneType: 'mobile', smsSignInState: 'notAllowedByPolicy' },
      },
    ],
    defaultAuthMethodId: DEMO_BEC.authenticatorMethodId,
  };
}

/** The unverified app Alice consented to (demo-telemetry.ts records the consent, 20 h ago) and a trusted app. */
function contosoApps(now: number): {
  servicePrincipals: Array<Partial<SimServicePrincipal>>;
  oauth2PermissionGrants: Array<Partial<SimPermissionGrant>>;
  appRoleAssignments: Array<Partial<SimAppRoleAssignment>>;
} {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    servicePrincipals: [
      {
        id: DEMO_BEC.maliciousServicePrincipalId,
        appId: DEMO_BEC.maliciousAppId,
        displayName: 'Mail Helper Pro',
        publisherName: 'Mail Helper Pro',
        verifiedPublisher: null,
        appOwnerOrganizationId: 'e1d2c3b4-a596-4877-8695-a4b3c2d1e0f9',
      },
      {
        appId: DEMO_BEC.trustedAppId,
        displayName: 'Fabrikam Docs',
        publisherName: 'Fabrikam, Inc.',
        appOwnerOrganizationId: '2d3e4f50-6172-4839-9a0b-1c2d3e4f5061',
        verifiedPublisher: { displayName: 'Fabrikam, Inc.', verifiedPublisherId: '5123456', addedDateTime: iso(now - 700 * DAY) },
        appRoles: [{ id: '7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d', value: 'Docs.Editor', displayName: 'Editor' }],
      },
    ],
    oauth2PermissionGrants: [
      {
        clientId: DEMO_BEC.maliciousAppId,
        consentType: 'Principal',
        principalId: DEMO_BEC.userId,
        resourceId: MICROSOFT_GRAPH_APP_ID,
        scope: 'Mail.ReadWrite offline_access User.Read',
        grantedDateTime: iso(now - 20 * HOUR),
      },
      // Tenant-wide: GET /users/{id}/oauth2PermissionGrants does not list it (microsoft-notes §8.1).
      {
        clientId: DEMO_BEC.trustedAppId,
        consentType: 'AllPrincipals',
        resourceId: MICROSOFT_GRAPH_APP_ID,
        scope: 'User.Read',
        grantedDateTime: iso(now - 700 * DAY),
      },
    ],
    appRoleAssignments: [
      {
        principalId: DEMO_BEC.userId,
        resourceId: DEMO_BEC.trustedAppId,
        appRoleId: '7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d',
        createdDateTime: iso(now - 300 * DAY),
      },
    ],
  };
}

function contosoDevices(now: number): Array<Partial<SimDevice>> {
  const iso = (ms: number) => new Date(ms).toISOString();
  const common = { firstSeen: iso(now - 200 * DAY), exposureLevel: 'Medium', riskScore: 'Low' };
  return [
    {
      ...common,
      id: '1e5bc9d7e413ddd7902c2932e418702b84d0cc07',
      computerDnsName: 'ws-001.contoso.example',
      aadDeviceId: '80fe8ff8-2624-418e-9591-41f0491218f9',
      osPlatform: 'Windows11',
      version: '23H2',
      healthStatus: 'Active',
      riskScore: 'High',
      lastSeen: iso(now - 10 * 60_000),
      lastIpAddress: '10.0.0.21',
      lastExternalIpAddress: '203.0.113.45',
    },
    {
      ...common,
      id: '2a6cd0e8f524eee8a13d3a43f529813c95e1dd18',
      computerDnsName: 'ws-002.contoso.example',
      aadDeviceId: '91af9009-3735-429f-a6a2-52a15a2329fa',
      osPlatform: 'Windows10',
      version: '22H2',
      healthStatus: 'Active',
      lastSeen: iso(now - 25 * 60_000),
      lastIpAddress: '10.0.0.22',
      lastExternalIpAddress: '203.0.113.45',
    },
    {
      ...common,
      id: '3b7de1f9a635fff9b24e4b54a63a924da6f2ee29',
      computerDnsName: 'fin-laptop-07.contoso.example',
      aadDeviceId: 'a2b0a11a-4846-43a0-b7b3-63b26b343a0b',
      osPlatform: 'Windows11',
      version: '23H2',
      healthStatus: 'Active',
      lastSeen: iso(now - 2 * HOUR),
      lastIpAddress: '10.0.1.7',
    },
    // Same short name as the one above, never domain-joined: name resolution must be ambiguous.
    {
      ...common,
      id: '4c8ef2a0b746aa0ac35f5c65b74ba35eb7a3ff3a',
      computerDnsName: 'fin-laptop-07',
      aadDeviceId: null,
      osPlatform: 'Windows11',
      version: '22H2',
      healthStatus: 'Active',
      lastSeen: iso(now - 5 * HOUR),
      lastIpAddress: '192.168.1.17',
    },
    {
      ...common,
      id: '5d9fa3b1c857bb1bd46a6d76c85cb46fc8b4aa4b',
      computerDnsName: 'srv-db-01.contoso.example',
      aadDeviceId: 'b3c1b22b-5957-44b1-88c4-74c37c454b1c',
      osPlatform: 'WindowsServer2022',
      version: '21H2',
      healthStatus: 'Active',
      exposureLevel: 'High',
      lastSeen: iso(now - 5 * 60_000),
      lastIpAddress: '10.0.2.10',
    },
    // Offline: machine actions stay Pending until TimeOut.
    {
      ...common,
      id: '6ea0b4c2d968cc2ce57b7e87d96dc57ad9c5bb5c',
      computerDnsName: 'mac-erin.contoso.example',
      aadDeviceId: 'c4d2c33c-6a68-45c2-99d5-85d48e565c2d',
      osPlatform: 'macOS',
      version: '14.4',
      healthStatus: 'Inactive',
      lastSeen: iso(now - 5 * DAY),
      lastIpAddress: '10.0.3.4',
      online: false,
    },
  ];
}

/** Materialised audit records (a few hundred) for a demo tenant. */
function demoAudit(tenantId: string, domain: string, users: string[], seed: number, count: number, now: number) {
  const gen = new AuditGenerator({ seed, count, tenantId, anchorMs: now, spanMs: 3 * DAY, users, domain });
  return Array.from({ length: count }, (_, i) => gen.record(i));
}

/** Contoso's app also holds the BEC permissions and ThreatHunting.Read.All; Fabrikam's keeps Cordon's defaults (the 403 cases). */
function contosoPermissions(): SimApp['permissions'] {
  const permissions = structuredClone(CORDON_PERMISSIONS);
  permissions.graph.push(...BEC_PERMISSIONS, 'ThreatHunting.Read.All', ...CONTOSO_MAIL_PERMISSIONS);
  return permissions;
}

export function demoScenario(nowMs: number = Date.now()): Scenario {
  const now = Math.floor(nowMs / 60_000) * 60_000;
  const cUsers = contosoUsers(now);
  const cDevices = contosoDevices(now);
  const upns = cUsers.filter((u) => u.userType !== 'Guest').map((u) => u.userPrincipalName!);
  const tel = demoTelemetry(DEMO.contoso.tenantId, now, cUsers, cDevices);
  const fUsers: Array<Partial<SimUser>> = [
    {
      id: '1c8d2f3e-0001-4b00-9000-000000000001',
      userPrincipalName: `admin@${DEMO.fabrikam.domain}`,
      displayName: 'Fabrikam Admin',
      directoryRoles: ['Global Administrator'],
    },
    {
      id: '1c8d2f3e-0002-4b00-9000-000000000002',
      userPrincipalName: `gina@${DEMO.fabrikam.domain}`,
      displayName: 'Gina Gardner',
      messages: mailbox(now, 102, DEMO_PHISH.fabrikam),
    },
    {
      id: '1c8d2f3e-0003-4b00-9000-000000000003',
      userPrincipalName: `hank@${DEMO.fabrikam.domain}`,
      displayName: 'Hank Hill',
      messages: mailbox(now, 103, DEMO_PHISH.fabrikam),
    },
  ];
  return {
    tokenLifetimeSeconds: 3599,
    manage: { duplicateBlobEvery: 10, lateRecordFraction: 0.03 },
    tenants: [
      {
        tenantId: DEMO.contoso.tenantId,
        displayName: 'Contoso Demo',
        domains: [DEMO.contoso.domain, DEMO.contoso.vanityDomain],
        apps: [
          {
            clientId: DEMO.contoso.clientId,
            displayName: 'Cordon (demo)',
            clientSecrets: [DEMO.contoso.clientSecret],
            certificates: [],
            generateCertificate: true,
            permissions: contosoPermissions(),
            directoryRoles: [],
          },
        ],
        users: cUsers as SimUser[],
        groups: [
          { id: DEMO_GROUP_FINANCE, displayName: 'Finance' },
          { id: DEMO_GROUP_CONTAINMENT, displayName: 'BEC Containment (CA: block sign-in)' },
        ],
        ...(contosoApps(now) as Partial<SimTenant>),
        devices: cDevices as SimDevice[],
        ...tel,
        auditRecords: [...tel.auditRecords, ...demoAudit(DEMO.contoso.tenantId, DEMO.contoso.vanityDomain, upns, 4711, 320, now)],
      },
      {
        tenantId: DEMO.fabrikam.tenantId,
        displayName: 'Fabrikam Basic',
        domains: [DEMO.fabrikam.domain],
        licences: { entraP1: false, entraP2: false, defenderForEndpoint: true, defenderXdr: true, unifiedAuditLog: true, defenderForOffice: false },
        apps: [
          {
            clientId: DEMO.fabrikam.clientId,
            displayName: 'Cordon (demo)',
            clientSecrets: [DEMO.fabrikam.clientSecret],
            certificates: [],
            permissions: { ...structuredClone(CORDON_PERMISSIONS), graph: [...CORDON_PERMISSIONS.graph, ...FABRIKAM_MAIL_PERMISSIONS] },
            directoryRoles: [],
          },
        ],
        users: fUsers as SimUser[],
        devices: [
          {
            id: '7fb1c5d3ea79dd3df68c8f98ea7ed68beadbcc6d',
            computerDnsName: 'fab-ws-01.fabrikam.example',
            aadDeviceId: 'd5e3d44d-7b79-46d3-aae6-96e59f676d3e',
            osPlatform: 'Windows11',
            healthStatus: 'Active',
            lastSeen: new Date(now - HOUR).toISOString(),
            online: true,
            isolated: false,
            appExecutionRestricted: false,
          },
        ],
        auditRecords: demoAudit(
          DEMO.fabrikam.tenantId,
          DEMO.fabrikam.domain,
          fUsers.map((u) => u.userPrincipalName!),
          815,
          60,
          now,
        ),
      },
    ],
  };
}
