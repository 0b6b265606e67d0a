import { MODULE_METADATA } from '@nestjs/common/constants';
import { FEATURE_MODULES } from '../app.module';
import { CapabilityRegistry } from '../tenants/capability-registry';
import { ALL_CAPABILITY_CHECKS, azureCliScript, manifestOf, MODULES, requiredResourceAccess, UnknownModuleError } from './manifest';
import { PERMISSION_IDS, RESOURCE_APP_IDS } from './permission-ids';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('permission manifest', () => {
  it('lists exactly the capability checks the feature modules register', () => {
    const registry = new CapabilityRegistry();
    for (const module of FEATURE_MODULES) {
      const providers = (Reflect.getMetadata(MODULE_METADATA.PROVIDERS, module) ?? []) as Array<{
        inject?: unknown[];
        useFactory?: (r: CapabilityRegistry) => unknown;
      }>;
      for (const p of providers) if (p.useFactory && p.inject?.[0] === CapabilityRegistry) p.useFactory(registry);
    }
    const registered = registry
      .capabilities()
      .map((c) => c.name)
      .sort();
    expect(registered.length).toBeGreaterThan(20);
    expect(ALL_CAPABILITY_CHECKS.flatMap((c) => c.capabilities.map((x) => x.name)).sort()).toEqual(registered);
  });

  it('covers every registered capability in exactly one module, and every permission has an app-role id', () => {
    const names = ALL_CAPABILITY_CHECKS.flatMap((c) => c.capabilities.map((x) => x.name)).sort();
    expect(MODULES.flatMap((m) => m.capabilities).sort()).toEqual(names);
    for (const p of ALL_CAPABILITY_CHECKS.flatMap((c) => c.capabilities.flatMap((x) => x.permissions))) {
      expect({ p, entry: PERMISSION_IDS[p] !== undefined }).toEqual({ p, entry: true });
      expect(PERMISSION_IDS[p].id).toMatch(GUID);
    }
    const ids = Object.values(PERMISSION_IDS).map((p) => `${p.resource}:${p.id}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('asks for the least privileged permission, or all where all are needed; marks what changes the tenant and what can grant itself more', () => {
    const [persistence] = manifestOf(['persistence-removal']);
    expect(persistence.readOnly).toBe(false);
    const byName = Object.fromEntries(persistence.permissions.map((p) => [p.name, p]));
    expect(Object.keys(byName).sort()).toEqual(
      [
        'AppRoleAssignment.ReadWrite.All',
        'Application.ReadWrite.All',
        'AuditLog.Read.All',
        'DelegatedPermissionGrant.ReadWrite.All',
        'Directory.Read.All',
        'Organization.Read.All',
        'User.Read.All',
        'GroupMember.ReadWrite.All',
        'MailboxSettings.ReadWrite',
        'User-PasswordProfile.ReadWrite.All',
        'UserAuthenticationMethod.ReadWrite.All',
      ].sort(),
    );
    expect(byName['AppRoleAssignment.ReadWrite.All']).toMatchObject({
      selfElevating: true,
      changesTenant: true,
      resource: 'graph',
      resourceAppId: RESOURCE_APP_IDS.graph,
    });
    expect(byName['MailboxSettings.ReadWrite'].selfElevating).toBe(false);
    const [users] = manifestOf(['user-actions']);
    expect(users.permissions.map((p) => p.name).sort()).toEqual(['User.EnableDisableAccount.All', 'User.Read.All', 'User.RevokeSessions.All']);
    expect(users.permissions.find((p) => p.name === 'User.Read.All')).toMatchObject({ changesTenant: false, for: [expect.stringMatching(/^reads: resolve/)] });
    const [audit] = manifestOf(['audit-ingestion']);
    expect(audit.readOnly).toBe(true);
    expect(audit.permissions.map((p) => [p.resource, p.name]).sort()).toEqual([
      ['manage', 'ActivityFeed.Read'],
      ['manage', 'ActivityFeed.ReadDlp'],
    ]);
    expect(() => manifestOf(['nope'])).toThrow(UnknownModuleError);
  });

  it('writes requiredResourceAccess per resource and an Azure CLI script with the same ids', () => {
    const modules = manifestOf(['defender-endpoint', 'user-actions']);
    const access = requiredResourceAccess(modules);
    expect(access.map((a) => a.resourceAppId).sort()).toEqual([RESOURCE_APP_IDS.defender, RESOURCE_APP_IDS.graph].sort());
    const script = azureCliScript(modules);
    for (const a of access) for (const r of a.resourceAccess) expect(script).toContain(`${r.id}=Role`);
    expect(script).toContain('az ad app create');
  });
});
