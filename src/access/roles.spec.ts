import { rolesFromAppRoles } from './roles';
import { assertTenantAccess, canAccessTenant } from './tenant-scope';
import type { Principal } from './principal';

describe('roles', () => {
  it('maps Cordon.* app roles and ignores others', () => {
    expect(rolesFromAppRoles(['Cordon.Responder', 'Cordon.Auditor', 'User.Read', 'Cordon.Responder'])).toEqual(['responder', 'auditor']);
    expect(rolesFromAppRoles(undefined)).toEqual([]);
    expect(rolesFromAppRoles('Cordon.Admin')).toEqual([]);
  });
});

describe('tenant scope', () => {
  const scoped: Principal = { type: 'apiKey', id: 'k', name: 'k', roles: ['analyst'], tenantIds: ['6f1c2b4e-9a55-4c1e-8d0b-2f7a1e3c5d9a'] };
  it('limits a scoped key to its tenants and answers others as not found', () => {
    expect(canAccessTenant(scoped, '6F1C2B4E-9A55-4C1E-8D0B-2F7A1E3C5D9A')).toBe(true);
    expect(() => assertTenantAccess(scoped, '0b9e6f52-3c1d-4a7e-9f08-5e2d4c6b8a1f')).toThrow(expect.objectContaining({ status: 404 }));
    expect(canAccessTenant({ ...scoped, tenantIds: null }, 'anything')).toBe(true);
  });
});
