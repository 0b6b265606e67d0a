import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditGenerator } from '../src/audit-generator';
import { BEC_PERMISSIONS, demoScenario, DEMO, DEMO_BEC } from '../src/demo-scenario';
import { loadInto } from '../src/loaders';
import { contentTypeOfRecord, manageOptions } from '../src/manage-options';
import { PASSWORD_METHOD_ID } from '../src/persistence';
import { TenantAuditIndex } from '../src/manage-store';
import { buildTenants, CORDON_PERMISSIONS, loadScenarioFile, normaliseScenario, ScenarioError } from '../src/scenario';

/** Scenario defaults and validation, loaders, the audit generator and content-type routing. */

const T = 'd0d0d0d0-0000-4000-8000-000000000001';
const dir = mkdtempSync(join(tmpdir(), 'sim-scenario-'));

describe('scenario', () => {
  it('fills every missing field with a default', () => {
    const [t] = buildTenants(
      normaliseScenario({
        tenants: [
          { tenantId: T.toUpperCase(), users: [{ userPrincipalName: 'a@x.example' }, { userPrincipalName: 'g_y.example#EXT#@x.example' }], devices: [{}] },
        ],
      }),
      new Date(),
    );
    expect(t.tenantId).toBe(T);
    expect(t.licences).toEqual({ entraP1: true, entraP2: true, defenderForEndpoint: true, defenderXdr: true, unifiedAuditLog: true });
    expect(t.apps).toHaveLength(1);
    expect(t.apps[0].permissions).toEqual(CORDON_PERMISSIONS);
    expect(t.apps[0].clientSecrets[0]).toEqual(expect.any(String));
    expect(t.users[0]).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      accountEnabled: true,
      userType: 'Member',
      mail: 'a@x.example',
      directoryRoles: [],
      riskLevel: 'none',
      riskState: 'none',
    });
    expect(t.users[1]).toMatchObject({ userType: 'Guest', mail: null });
    expect(t.devices[0]).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{40}$/), online: true, isolated: false, appExecutionRestricted: false });
    for (const k of [
      'alerts',
      'incidents',
      'signIns',
      'directoryAudits',
      'riskDetections',
      'secureScores',
      'secureScoreControlProfiles',
      'auditRecords',
      'groups',
    ] as const)
      expect(t[k]).toEqual([]);
    // Deterministic: the same scenario gives the same ids.
    const [again] = buildTenants(normaliseScenario({ tenants: [{ tenantId: T, users: [{ userPrincipalName: 'a@x.example' }] }] }), new Date());
    expect(again.users[0].id).toBe(t.users[0].id);
    expect(again.apps[0].clientId).toBe(t.apps[0].clientId);
  });

  it('keeps partial licences and explicit permissions', () => {
    const [t] = buildTenants(
      normaliseScenario({ tenants: [{ tenantId: T, licences: { entraP1: false } as never, apps: [{ permissions: { graph: ['User.Read.All'] } as never }] }] }),
      new Date(),
    );
    expect(t.licences.entraP1).toBe(false);
    expect(t.licences.entraP2).toBe(true);
    expect(t.apps[0].permissions).toEqual({ graph: ['User.Read.All'], manage: [], defender: [] });
  });

  it('reports every problem at once with its location', () => {
    const bad = {
      tenants: [
        { tenantId: 'contoso' },
        { tenantId: T, users: [{ id: 'nope' }, { userPrincipalName: 'a@x' }, { userPrincipalName: 'A@x' }], devices: [{ id: 'short' }] },
        { tenantId: T },
      ],
    };
    let error: ScenarioError | undefined;
    try {
      normaliseScenario(bad);
    } catch (e) {
      error = e as ScenarioError;
    }
    expect(error).toBeInstanceOf(ScenarioError);
    expect(error!.problems).toEqual(
      expect.arrayContaining([
        'tenants[0].tenantId: "contoso" is not a GUID',
        'tenants[1].users[0].id: "nope" is not a GUID',
        'tenants[1].users: duplicate userPrincipalName a@x',
        'tenants[1].devices[0].id: "short" is not 40 hex characters',
        `tenants: duplicate tenantId ${T}`,
      ]),
    );
    expect(() => normaliseScenario({})).toThrow(/tenants/);
  });

  it('loads scenario files and the shipped examples', () => {
    const file = join(dir, 's.json');
    writeFileSync(file, JSON.stringify({ tenants: [{ tenantId: T }] }));
    expect(loadScenarioFile(file).tenants[0].tenantId).toBe(T);
    writeFileSync(file, '{not json');
    expect(() => loadScenarioFile(file)).toThrow(ScenarioError);
    for (const f of ['basic-tenant.json', 'audit-log-off.json', 'bec-victim.json'])
      expect(() => loadScenarioFile(join(__dirname, '..', 'scenarios', f))).not.toThrow();
  });

  it('the demo scenario is valid and has what Cordon needs', () => {
    const s = normaliseScenario(demoScenario());
    const [contoso, fabrikam] = buildTenants(s, new Date());
    expect(contoso).toMatchObject({ tenantId: DEMO.contoso.tenantId, displayName: 'Contoso Demo' });
    expect(contoso.users.filter((u) => u.directoryRoles.includes('Global Administrator'))).toHaveLength(1);
    expect(contoso.users.filter((u) => u.userType === 'Guest').length).toBeGreaterThanOrEqual(2);
    expect(contoso.devices.filter((d) => d.computerDnsName.split('.')[0] === 'fin-laptop-07')).toHaveLength(2);
    expect(contoso.devices.some((d) => !d.online)).toBe(true);
    expect(contoso.alerts.map((a) => a.serviceSource)).toEqual(
      expect.arrayContaining(['microsoftDefenderForEndpoint', 'azureAdIdentityProtection', 'microsoftSentinel']),
    );
    expect(contoso.auditRecords.length).toBeGreaterThan(300);
    expect(new Set(contoso.auditRecords.map(contentTypeOfRecord)).size).toBe(5);
    expect(fabrikam.licences).toMatchObject({ entraP1: false, entraP2: false });
  });
});

describe('scenario: BEC persistence', () => {
  const U = 'u@t.example';

  it('derives ids, adds the password method and the built-in service principals, resolves appIds and UPNs', () => {
    const [t] = buildTenants(loadScenarioFile(join(__dirname, '..', 'scenarios', 'bec-victim.json')), new Date('2025-03-04T10:00:00Z'));
    const kim = t.users[0];
    expect(kim.mailboxEnabled).toBe(true);
    expect(kim.inboxRules!.map((r) => [r.sequence, r.isEnabled, r.hidden ?? false])).toEqual([
      [1, true, false],
      [2, true, true],
    ]);
    expect(kim.inboxRules![0].id).toMatch(/^AQAAA/);
    expect(kim.authMethods!.map((m) => [m.type, m.id])).toEqual([
      ['password', PASSWORD_METHOD_ID],
      ['microsoftAuthenticator', expect.stringMatching(/^[0-9a-f-]{36}$/)],
      ['phone', '3179e48a-750b-4051-897c-87b9720928f7'],
    ]);
    expect(t.servicePrincipals.map((sp) => sp.displayName)).toEqual([
      'Microsoft Graph',
      'Office 365 Management APIs',
      'WindowsDefenderATP',
      'Cordon',
      'PDF Sign Online',
    ]);
    const evil = t.servicePrincipals.find((sp) => sp.displayName === 'PDF Sign Online')!;
    expect(evil).toMatchObject({ verifiedPublisher: null, accountEnabled: true, publisherName: 'PDF Sign Online' });
    expect(t.oauth2PermissionGrants).toEqual([
      expect.objectContaining({ clientId: evil.id, principalId: kim.id, resourceId: t.servicePrincipals[0].id, consentType: 'Principal' }),
    ]);
    const guest = buildTenants(
      normaliseScenario({ tenants: [{ tenantId: T, users: [{ userPrincipalName: 'g_x.example#EXT#@t.example', mail: 'g@x.example' }] }] }),
      new Date(),
    )[0].users[0];
    expect(guest.mailboxEnabled).toBe(false);
  });

  it('reports every persistence problem with its location', () => {
    const bad = {
      tenants: [
        {
          tenantId: T,
          users: [
            {
              userPrincipalName: U,
              inboxRules: [{ sequence: 0, actions: [] }],
              authMethods: [{ type: 'sms' }, { type: 'password' }, { type: 'password', createdDateTime: 'yesterday' }],
              defaultAuthMethodId: 'nope',
            },
          ],
          servicePrincipals: [{ appId: 'not-a-guid' }],
          oauth2PermissionGrants: [{ consentType: 'Everyone' }, { clientId: 'x' }],
          appRoleAssignments: [{}],
        },
      ],
    };
    let problems: string[] = [];
    try {
      normaliseScenario(bad);
    } catch (e) {
      problems = (e as ScenarioError).problems;
    }
    expect(problems).toEqual(
      expect.arrayContaining([
        'tenants[0].users[0].inboxRules[0].sequence: must be a positive integer',
        'tenants[0].users[0].inboxRules[0].actions: must be an object',
        expect.stringMatching(/^tenants\[0\]\.users\[0\]\.authMethods\[0\]\.type: "sms" is not one of password, phone/),
        'tenants[0].users[0].authMethods[2].createdDateTime: "yesterday" is not a date',
        'tenants[0].users[0].authMethods: more than one password method',
        'tenants[0].users[0].defaultAuthMethodId: "nope" is none of the user\'s authMethods ids',
        'tenants[0].servicePrincipals[0].appId: "not-a-guid" is not a GUID',
        'tenants[0].oauth2PermissionGrants[0].clientId: required (a service principal id or appId)',
        'tenants[0].oauth2PermissionGrants[0].consentType: must be Principal or AllPrincipals',
        'tenants[0].oauth2PermissionGrants[1].principalId: required for a Principal grant (a user id or UPN)',
        'tenants[0].appRoleAssignments[0].principalId: required (a user id or UPN)',
        'tenants[0].appRoleAssignments[0].resourceId: required (a service principal id or appId)',
      ]),
    );
    expect(problems).toHaveLength(12);
  });

  it('seeds the demo BEC victim in Contoso only', () => {
    const [contoso, fabrikam] = buildTenants(normaliseScenario(demoScenario()), new Date());
    const alice = contoso.users.find((u) => u.id === DEMO_BEC.userId)!;
    expect(alice.inboxRules!.filter((r) => !r.hidden)).toHaveLength(2);
    expect(alice.authMethods!.map((m) => m.type)).toEqual(['password', 'microsoftAuthenticator', 'phone']);
    expect(contoso.oauth2PermissionGrants.filter((g) => g.principalId === alice.id)).toHaveLength(1);
    expect(contoso.apps[0].permissions.graph).toEqual(expect.arrayContaining(BEC_PERMISSIONS));
    expect(fabrikam.apps[0].permissions.graph).not.toContain('MailboxSettings.ReadWrite');
    expect(fabrikam.users.every((u) => (u.inboxRules ?? []).length === 0)).toBe(true);
  });
});

describe('loaders', () => {
  it('appends NDJSON or JSON arrays to the tenant, keeping records verbatim', () => {
    const [t] = buildTenants(normaliseScenario({ tenants: [{ tenantId: T }] }), new Date());
    const nd = join(dir, 'audit.ndjson');
    writeFileSync(nd, '{"Id":"1","RecordType":"15","CreationTime":"2025-03-03T11:02:09","ClientIP":"[2001:db8::1]:443"}\n\n{"Id":"2"}\n');
    expect(loadInto(t, 'audit', nd, new Date())).toBe(2);
    expect(t.auditRecords[0]).toEqual({ Id: '1', RecordType: '15', CreationTime: '2025-03-03T11:02:09', ClientIP: '[2001:db8::1]:443' });
    const machines = join(dir, 'machines.json');
    writeFileSync(machines, JSON.stringify([{ id: 'a'.repeat(40), computerDnsName: 'pc1', healthStatus: 'Inactive', machineTags: ['vip'] }]));
    loadInto(t, 'machines', machines, new Date());
    expect(t.devices[0]).toMatchObject({ id: 'a'.repeat(40), online: false, extra: { machineTags: ['vip'] } });
    const old = join(dir, 'old.ndjson');
    writeFileSync(old, '{"Id":"a","CreationTime":"2025-03-03T10:00:00"}\n{"Id":"b","CreationTime":"2025-03-03T11:00:00"}\n');
    loadInto(t, 'audit', old, new Date('2026-01-01T12:00:00Z'), true);
    expect(t.auditRecords.slice(-2)).toEqual([
      { Id: 'a', CreationTime: '2025-03-03T10:00:00', _simAvailableAt: '2026-01-01T11:00:00Z' },
      { Id: 'b', CreationTime: '2025-03-03T11:00:00', _simAvailableAt: '2026-01-01T12:00:00Z' },
    ]);
    writeFileSync(nd, '{"ok":1}\nnot json\n');
    expect(() => loadInto(t, 'alerts', nd, new Date())).toThrow(/audit.ndjson:2/);
  });
});

describe('audit generator', () => {
  const cfg = {
    seed: 42,
    count: 1000,
    tenantId: T,
    anchorMs: Date.parse('2025-03-10T00:00:00Z'),
    spanMs: 6 * 86_400_000,
    users: ['a@x.example', 'b@x.example'],
    domain: 'x.example',
  };

  it('is deterministic per (seed, index) and consistent between meta and record', () => {
    const g1 = new AuditGenerator(cfg);
    const g2 = new AuditGenerator(cfg);
    for (const i of [0, 1, 500, 999]) {
      expect(g1.record(i)).toEqual(g2.record(i));
      const r = g1.record(i);
      expect(Date.parse(`${r.CreationTime}Z`)).toBe(g1.meta(i).creationMs);
      expect(contentTypeOfRecord(r)).toBe(g1.meta(i).contentType);
      expect(r).toMatchObject({ Id: expect.stringMatching(/^[0-9a-f-]{36}$/), OrganizationId: T, CreationTime: expect.not.stringMatching(/Z$/) });
    }
    expect(new AuditGenerator({ ...cfg, seed: 43 }).record(5)).not.toEqual(g1.record(5));
    const types = new Set(Array.from({ length: 1000 }, (_, i) => g1.meta(i).contentType));
    expect(types.size).toBe(5);
  });

  it('indexes a million records in a few MB without materialising them', () => {
    const gen = new AuditGenerator({ ...cfg, count: 1_000_000 });
    const heapBefore = process.memoryUsage().heapUsed;
    const [t] = buildTenants(normaliseScenario({ tenants: [{ tenantId: T }] }), new Date());
    const index = new TenantAuditIndex(t, manageOptions(), cfg.anchorMs, gen);
    const blobs = index.list('Audit.Exchange', cfg.anchorMs - 86_400_000, cfg.anchorMs, cfg.anchorMs + 86_400_000);
    expect(blobs.length).toBeGreaterThan(50);
    expect(index.records(blobs[0]).length).toBe(blobs[0].generated.length);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(200 * 1024 * 1024);
  });
});
