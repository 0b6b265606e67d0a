import type { Role } from './roles';

/** Who is calling: an API key or a signed-in Entra ID user. Attached to the request by the guard. */
export interface Principal {
  type: 'apiKey' | 'user' | 'system';
  /** API key id, or the user's Entra object id ('cordon' for Cordon's own principal, see src/actions/releases). */
  id: string;
  name: string;
  roles: Role[];
  /** Cordon tenant ids this principal is limited to; null ⇒ every tenant. */
  tenantIds: string[] | null;
}

export function hasAnyRole(principal: Principal, roles: readonly Role[]): boolean {
  return roles.some((role) => principal.roles.includes(role));
}

/** A principal as the audit log names its actor. */
export type PrincipalActor = Pick<Principal, 'type' | 'id' | 'name'>;

/** The audit log's actor for a principal. */
export function actorOf(principal: Principal): PrincipalActor {
  return { type: principal.type, id: principal.id, name: principal.name };
}
