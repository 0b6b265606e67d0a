/** Cordon's roles (ARCHITECTURE.md §4.6; README "Authentication and roles"). A principal may hold several. */
export const ROLES = ['auditor', 'analyst', 'responder', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Entra ID app roles (the token's `roles` claim) and the Cordon role each grants. */
export const ENTRA_APP_ROLES: Record<string, Role> = {
  'Cordon.Auditor': 'auditor',
  'Cordon.Analyst': 'analyst',
  'Cordon.Responder': 'responder',
  'Cordon.Admin': 'admin',
};

export function rolesFromAppRoles(claim: unknown): Role[] {
  if (!Array.isArray(claim)) return [];
  const roles = claim.map((value) => ENTRA_APP_ROLES[String(value)]).filter((role): role is Role => role !== undefined);
  return [...new Set(roles)];
}
