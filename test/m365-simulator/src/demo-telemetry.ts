import { guidFrom, prng, pick } from './ids';
import { formatCreationTime } from './manage-options';
import type { RawRecord, SimDevice, SimUser } from './types';

/**
 * Security telemetry of the Contoso demo tenant: alerts across products (incl. a serviceSource newer
 * than `unknownFutureValue`, microsoft-notes M10), incidents, sign-ins, directory audits, risk detections, secure
 * scores and a few hand-written audit records worth an investigation. Shapes follow microsoft-notes §3.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export function demoTelemetry(tenantId: string, now: number, users: Array<Partial<SimUser>>, devices: Array<Partial<SimDevice>>) {
  const iso = (ms: number) => new Date(ms).toISOString();
  const user = (upnPrefix: string) => users.find((u) => u.userPrincipalName!.startsWith(upnPrefix))!;
  const alice = user('alice@');
  const bob = user('bob@');
  const ws001 = devices[0];
  const portal = 'https://security.microsoft.com';

  const alert = (n: number, a: Record<string, unknown>): RawRecord => {
    const id = `da6387${String(1000000 + n)}_-${String(123456789 + n)}`;
    const created = now - (n + 1) * 3 * HOUR;
    return {
      '@odata.type': '#microsoft.graph.security.alert',
      id,
      providerAlertId: id,
      tenantId,
      status: 'new',
      severity: 'medium',
      classification: null,
      determination: null,
      assignedTo: null,
      category: 'InitialAccess',
      detectorId: guidFrom('detector', n),
      description: '',
      recommendedActions: '',
      actorDisplayName: null,
      threatDisplayName: null,
      threatFamilyName: null,
      mitreTechniques: [],
      alertWebUrl: `${portal}/alerts/${id}?tid=${tenantId}`,
      incidentWebUrl: `${portal}/incidents/${a.incidentId}?tid=${tenantId}`,
      createdDateTime: iso(created),
      lastUpdateDateTime: iso(created + 20 * MIN),
      firstActivityDateTime: iso(created - 10 * MIN),
      lastActivityDateTime: iso(created - MIN),
      resolvedDateTime: null,
      comments: [],
      systemTags: [],
      evidence: [],
      ...a,
    };
  };
  const userEvidence = (u: Partial<SimUser>) => ({
    '@odata.type': '#microsoft.graph.security.userEvidence',
    roles: ['compromised'],
    verdict: 'suspicious',
    userAccount: {
      accountName: u.userPrincipalName!.split('@')[0],
      domainName: u.userPrincipalName!.split('@')[1],
      userPrincipalName: u.userPrincipalName,
      azureAdUserId: u.id,
      displayName: u.displayName,
    },
  });
  const deviceEvidence = (d: Partial<SimDevice>) => ({
    '@odata.type': '#microsoft.graph.security.deviceEvidence',
    roles: ['compromised'],
    mdeDeviceId: d.id,
    azureAdDeviceId: d.aadDeviceId,
    deviceDnsName: d.computerDnsName,
    osPlatform: d.osPlatform,
    healthStatus: 'active',
    riskScore: 'high',
    onboardingStatus: 'onboarded',
  });

  const alerts: RawRecord[] = [
    alert(0, {
      incidentId: '4711',
      serviceSource: 'microsoftDefenderForEndpoint',
      detectionSource: 'antivirus',
      title: 'Ransomware behavior detected in the file system',
      category: 'Ransomware',
      severity: 'high',
      mitreTechniques: ['T1486'],
      evidence: [deviceEvidence(ws001), userEvidence(alice)],
    }),
    alert(1, {
      incidentId: '4711',
      serviceSource: 'azureAdIdentityProtection',
      detectionSource: 'azureAdIdentityProtection',
      title: 'Unfamiliar sign-in properties',
      severity: 'medium',
      evidence: [userEvidence(alice)],
    }),
    alert(2, {
      incidentId: '4711',
      serviceSource: 'microsoftDefenderForOffice365',
      detectionSource: 'microsoftDefenderForOffice365',
      title: 'Email messages containing malicious URL removed after delivery',
      category: 'InitialAccess',
      severity: 'informational',
      evidence: [userEvidence(alice)],
    }),
    alert(3, {
      incidentId: '4712',
      serviceSource: 'microsoftDefenderForIdentity',
      detectionSource: 'microsoftDefenderForIdentity',
      title: 'Suspected brute-force attack (LDAP)',
      category: 'CredentialAccess',
      severity: 'medium',
      status: 'inProgress',
      evidence: [userEvidence(bob)],
    }),
    alert(4, {
      incidentId: '4712',
      serviceSource: 'microsoftDefenderForCloudApps',
      detectionSource: 'cloudAppSecurity',
      title: 'Impossible travel activity',
      severity: 'medium',
      evidence: [userEvidence(bob)],
    }),
    alert(5, {
      incidentId: '4713',
      serviceSource: 'dataLossPrevention',
      detectionSource: 'microsoftDataLossPrevention',
      title: 'DLP policy (PCI DSS) matched for document in SharePoint',
      category: 'Exfiltration',
      severity: 'low',
    }),
    alert(6, {
      incidentId: '4713',
      serviceSource: 'microsoft365Defender',
      detectionSource: 'customDetection',
      title: 'Custom detection: mass download by a single user',
      category: 'Collection',
      severity: 'medium',
      status: 'resolved',
      classification: 'truePositive',
      determination: 'maliciousUserActivity',
      resolvedDateTime: iso(now - DAY),
    }),
    // Newer than unknownFutureValue: served as-is only with `Prefer: include-unknown-enum-members` (microsoft-notes M10).
    alert(7, {
      incidentId: '4713',
      serviceSource: 'microsoftSentinel',
      detectionSource: 'scheduledAlerts',
      title: 'Sentinel analytics rule: rare admin consent',
      category: 'Persistence',
      severity: 'high',
    }),
  ];

  const incident = (id: string, name: string, severity: string, status: string, ageHours: number): RawRecord => ({
    id,
    tenantId,
    displayName: name,
    description: null,
    severity,
    status,
    classification: status === 'resolved' ? 'truePositive' : 'unknown',
    determination: status === 'resolved' ? 'maliciousUserActivity' : 'unknown',
    assignedTo: status === 'active' ? null : `adele.vance@contoso.example`,
    incidentWebUrl: `${portal}/incidents/${id}?tid=${tenantId}`,
    redirectIncidentId: null,
    customTags: [],
    systemTags: [],
    comments: [],
    createdDateTime: iso(now - ageHours * HOUR),
    lastUpdateDateTime: iso(now - ageHours * HOUR + 30 * MIN),
  });
  const incidents = [
    incident('4711', 'Multi-stage incident involving Initial access & Impact on one endpoint', 'high', 'active', 24),
    incident('4712', 'Credential access incident involving one user', 'medium', 'inProgress', 12),
    incident('4713', 'Exfiltration incident involving multiple users', 'high', 'resolved', 21),
  ];

  const rand = prng(20250303);
  const members = users.filter((u) => u.userType !== 'Guest');
  const signIns: RawRecord[] = Array.from({ length: 24 }, (_, i) => {
    const u = i % 5 === 0 ? alice : pick(rand, members);
    const failed = u === bob && i % 2 === 0;
    const foreign = u === alice && i % 10 === 0;
    return {
      id: guidFrom('signin', tenantId, i),
      createdDateTime: iso(now - i * 2 * HOUR - 7 * MIN),
      userDisplayName: u.displayName,
      userPrincipalName: u.userPrincipalName,
      userId: u.id,
      appId: '00000002-0000-0ff1-ce00-000000000000',
      appDisplayName: 'Office 365 Exchange Online',
      ipAddress: foreign ? '198.51.100.77' : `203.0.113.${40 + (i % 10)}`,
      clientAppUsed: 'Browser',
      correlationId: guidFrom('corr', i),
      conditionalAccessStatus: failed ? 'notApplied' : 'success',
      isInteractive: true,
      riskDetail: 'none',
      riskLevelAggregated: foreign ? 'high' : 'none',
      riskLevelDuringSignIn: foreign ? 'high' : 'none',
      riskState: foreign ? 'atRisk' : 'none',
      riskEventTypes_v2: foreign ? ['unfamiliarFeatures'] : [],
      resourceDisplayName: 'Office 365 Exchange Online',
      resourceId: '00000002-0000-0ff1-ce00-000000000000',
      status: failed
        ? { errorCode: 50126, failureReason: 'Error validating credentials due to invalid username or password.', additionalDetails: null }
        : { errorCode: 0, failureReason: 'Other.', additionalDetails: null },
      deviceDetail: {
        deviceId: '',
        displayName: '',
        operatingSystem: 'Windows10',
        browser: 'Edge 120.0.0',
        isCompliant: false,
        isManaged: false,
        trustType: '',
      },
      location: foreign
        ? { city: 'Lagos', state: 'Lagos', countryOrRegion: 'NG', geoCoordinates: { latitude: 6.45, longitude: 3.39 } }
        : { city: 'Seattle', state: 'Washington', countryOrRegion: 'US', geoCoordinates: { latitude: 47.6, longitude: -122.3 } },
      appliedConditionalAccessPolicies: [],
    };
  });

  const audit = (
    i: number,
    activity: string,
    category: string,
    target: Partial<SimUser>,
    initiatedBy: Record<string, unknown>,
    props: unknown[] = [],
  ): RawRecord => ({
    id: `Directory_${guidFrom('dirAudit', tenantId, i)}`,
    category,
    correlationId: guidFrom('dirCorr', i),
    result: 'success',
    resultReason: '',
    activityDisplayName: activity,
    activityDateTime: iso(now - i * 5 * HOUR),
    loggedByService: 'Core Directory',
    operationType: activity.split(' ')[0],
    initiatedBy,
    targetResources: [
      {
        id: target.id,
        displayName: target.displayName ?? null,
        type: 'User',
        userPrincipalName: target.userPrincipalName,
        groupId: null,
        modifiedProperties: props,
      },
    ],
    additionalDetails: [{ key: 'UserAgent', value: 'Mozilla/5.0' }],
  });
  const adele = user('adele.vance@');
  const byAdele = { user: { id: adele.id, displayName: null, userPrincipalName: adele.userPrincipalName, ipAddress: '203.0.113.10' }, app: null };
  const byApp = {
    user: null,
    app: {
      appId: 'a1f0c3d2-7b6e-4c5d-9e8f-0a1b2c3d4e5f',
      displayName: 'Cordon (demo)',
      servicePrincipalId: guidFrom('sp'),
      servicePrincipalName: 'Cordon (demo)',
    },
  };
  const directoryAudits = [
    audit(1, 'Update user', 'UserManagement', alice, byAdele, [{ displayName: 'StrongAuthenticationMethod', oldValue: '[]', newValue: '[{"MethodType":6}]' }]),
    audit(2, 'Add member to role', 'RoleManagement', bob, byAdele, [{ displayName: 'Role.DisplayName', oldValue: null, newValue: '"Exchange Administrator"' }]),
    audit(3, 'Reset user password', 'UserManagement', user('carol@'), byAdele),
    audit(4, 'Consent to application', 'ApplicationManagement', alice, {
      user: { id: alice.id, displayName: null, userPrincipalName: alice.userPrincipalName, ipAddress: '198.51.100.77' },
      app: null,
    }),
    audit(5, 'Disable account', 'UserManagement', user('frank.former@'), byApp, [{ displayName: 'AccountEnabled', oldValue: '[true]', newValue: '[false]' }]),
    audit(6, 'Add user', 'UserManagement', user('auditor_'), byAdele),
    audit(7, 'Update conditional access policy', 'Policy', adele, byAdele),
    audit(8, 'Invite external user', 'UserManagement', user('partner_'), byAdele),
    // The attacker's phone, registered yesterday from the attacker's IP: Graph gives phone methods no date (microsoft-notes M36).
    {
      ...audit(9, 'User registered security info', 'UserManagement', alice, {
        user: { id: alice.id, displayName: null, userPrincipalName: alice.userPrincipalName, ipAddress: '198.51.100.77' },
        app: null,
      }),
      activityDateTime: iso(now - DAY),
      loggedByService: 'Authentication Methods',
    },
  ];

  const risk = (i: number, u: Partial<SimUser>, type: string, level: string, state: string): RawRecord => ({
    id: guidFrom('risk', tenantId, i),
    requestId: guidFrom('riskReq', i),
    correlationId: guidFrom('riskCorr', i),
    riskEventType: type,
    riskState: state,
    riskLevel: level,
    riskDetail: 'none',
    source: 'IdentityProtection',
    detectionTimingType: i % 2 ? 'offline' : 'realtime',
    activity: 'signin',
    tokenIssuerType: 'AzureAD',
    ipAddress: '198.51.100.77',
    location: { city: 'Lagos', state: 'Lagos', countryOrRegion: 'NG' },
    activityDateTime: iso(now - (i + 1) * 6 * HOUR),
    detectedDateTime: iso(now - (i + 1) * 6 * HOUR + 5 * MIN),
    lastUpdatedDateTime: iso(now - (i + 1) * 6 * HOUR + 10 * MIN),
    userId: u.id,
    userDisplayName: u.displayName,
    userPrincipalName: u.userPrincipalName,
    additionalInfo: '[{"Key":"userAgent","Value":"Mozilla/5.0"}]',
  });
  const riskDetections = [
    risk(0, alice, 'unfamiliarFeatures', 'high', 'atRisk'),
    risk(1, alice, 'anonymizedIPAddress', 'medium', 'atRisk'),
    risk(2, bob, 'leakedCredentials', 'high', 'atRisk'),
    risk(3, user('dan@'), 'impossibleTravel', 'low', 'remediated'),
  ];

  const secureScores = [0, 1, 2].map((d) => ({
    id: `${tenantId}_${new Date(now - d * DAY).toISOString().slice(0, 10)}`,
    azureTenantId: tenantId,
    activeUserCount: 8,
    createdDateTime: iso(Math.floor((now - d * DAY) / DAY) * DAY),
    currentScore: 41.5 - d,
    maxScore: 96,
    licensedUserCount: 10,
    enabledServices: ['HasExchange', 'HasSharePoint', 'HasOD4B'],
    averageComparativeScores: [{ basis: 'AllTenants', averageScore: 39.2 }],
    controlScores: [
      { controlCategory: 'Identity', controlName: 'MFARegistrationV2', score: 9, description: 'Ensure all users can complete multifactor authentication' },
    ],
  }));
  const secureScoreControlProfiles = [
    {
      id: 'MFARegistrationV2',
      azureTenantId: tenantId,
      title: 'Ensure all users can complete multifactor authentication',
      controlCategory: 'Identity',
      maxScore: 9,
      rank: 1,
      service: 'AzureAD',
      tier: 'Core',
      deprecated: false,
      implementationCost: 'Moderate',
      userImpact: 'Moderate',
      actionType: 'Config',
      remediation: 'Require MFA registration.',
    },
    {
      id: 'BlockLegacyAuthentication',
      azureTenantId: tenantId,
      title: 'Block legacy authentication',
      controlCategory: 'Identity',
      maxScore: 8,
      rank: 2,
      service: 'AzureAD',
      tier: 'Core',
      deprecated: false,
      implementationCost: 'Low',
      userImpact: 'Low',
      actionType: 'Config',
      remediation: 'Create a Conditional Access policy.',
    },
    {
      id: 'mdo_safelinksforOfficeApps',
      azureTenantId: tenantId,
      title: 'Ensure Safe Links for Office Apps is Enabled',
      controlCategory: 'Apps',
      maxScore: 5,
      rank: 12,
      service: 'MDO',
      tier: 'Advanced',
      deprecated: false,
      implementationCost: 'Low',
      userImpact: 'Low',
      actionType: 'Config',
      remediation: 'Turn on Safe Links.',
    },
  ];

  // Hand-written records worth finding: forwarding rule and mass download by alice (microsoft-notes M7 quirks kept).
  const auditRecords: RawRecord[] = [
    {
      CreationTime: formatCreationTime(now - 20 * HOUR),
      Id: '7c0f9d21-3a55-4e2b-8d6f-0a1b2c3d4e5f',
      Operation: 'New-InboxRule',
      OrganizationId: tenantId,
      RecordType: 1,
      ResultStatus: 'True',
      UserKey: 'NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)',
      UserType: 2,
      Version: 1,
      Workload: 'Exchange',
      ClientIP: '198.51.100.77:51234',
      ObjectId: `${alice.userPrincipalName}\\Forward all`,
      UserId: alice.userPrincipalName,
      Parameters: [
        { Name: 'ForwardTo', Value: 'evil@example.net' },
        { Name: 'Name', Value: 'Forward all' },
      ],
    },
    {
      CreationTime: formatCreationTime(now - 21 * HOUR),
      Id: '2b9e1c4a-6f0d-4c8e-9a11-3e5d7c2b1a90',
      Operation: 'UserLoggedIn',
      OrganizationId: tenantId,
      RecordType: 15,
      ResultStatus: 'Success',
      UserKey: alice.id,
      UserType: 0,
      Version: 1,
      Workload: 'AzureActiveDirectory',
      ClientIP: '198.51.100.77',
      ObjectId: '00000003-0000-0ff1-ce00-000000000000',
      UserId: alice.userPrincipalName,
      ApplicationId: '89bee1f7-5e6e-4d8a-9f3d-ecd601259da7',
      LogonError: null,
    },
    ...Array.from({ length: 12 }, (_, i) => ({
      CreationTime: formatCreationTime(now - 19 * HOUR + i * MIN),
      Id: guidFrom('massdl', i),
      Operation: 'FileDownloaded',
      OrganizationId: tenantId,
      RecordType: 6,
      UserKey: `i:0h.f|membership|${alice.id}@live.com`,
      UserType: 0,
      Version: 1,
      Workload: 'SharePoint',
      ClientIP: '198.51.100.77',
      ObjectId: `https://contoso.sharepoint.com/sites/finance/Shared Documents/export-${i}.xlsx`,
      UserId: alice.userPrincipalName,
      SiteUrl: 'https://contoso.sharepoint.com/sites/finance/',
      SourceFileName: `export-${i}.xlsx`,
      SourceFileExtension: 'xlsx',
      ItemType: 'File',
    })),
  ];

  return { alerts, incidents, signIns, directoryAudits, riskDetections, secureScores, secureScoreControlProfiles, auditRecords };
}
