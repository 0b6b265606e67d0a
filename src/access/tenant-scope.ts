import { problems } from '../common/problem';
import type { Principal } from './principal';

/** True when the principal may see the tenant (its key is not limited, or lists it). */
export function canAccessTenant(principal: Principal, tenantId: string): boolean {
  return principal.tenantIds === null || principal.tenantIds.includes(tenantId.toLowerCase());
}

/**
 * Object-level check used by services: a tenant outside a key's tenant list is answered 404,
 * exactly as if it did not exist, so a scoped key cannot probe which tenants are registered.
 */
export function assertTenantAccess(principal: Principal, tenantId: string): void {
  if (!canAccessTenant(principal, tenantId)) throw problems.notFound(`Tenant ${tenantId} does not exist.`);
}
