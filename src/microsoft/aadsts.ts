/**
 * Human explanations of the Entra ID (AADSTS) codes a client-credentials token request meets
 * (microsoft-notes §1.1: the codes worth explaining, plus the ones the token endpoint documents).
 */

export interface AadstsContext {
  tenantId: string;
  clientId: string;
  cloud: string;
}

const EXPLANATIONS: Record<number, (c: AadstsContext) => string> = {
  7000215: () => 'the client secret is wrong or expired — use the secret value, not its ID',
  7000222: (c) => `the client secret of app ${c.clientId} has expired; create a new one`,
  7000218: () => 'no client secret or certificate was sent',
  700016: (c) => `the app ${c.clientId} is not registered in tenant ${c.tenantId} (or was never consented there)`,
  700038: (c) => `${c.clientId} is not a valid application (client) ID`,
  90002: (c) => `tenant ${c.tenantId} does not exist in the ${c.cloud} cloud`,
  900023: (c) => `"${c.tenantId}" is not a valid tenant ID or domain`,
  700027: (c) => `the certificate is not registered on app ${c.clientId}, or the assertion signature did not verify`,
  700024: () => 'the client assertion is outside its validity window — check this machine’s clock',
  5002730: () => 'the certificate’s key type or signing algorithm is not accepted',
  500011: (c) => `the API is not available in tenant ${c.tenantId} (its service principal is missing: the product may not be provisioned or consented)`,
  70011: () => 'the requested scope is not valid',
  1002012: () => 'the scope must end with /.default for app-only tokens',
  7000112: (c) => `the app ${c.clientId} is disabled`,
  53003: () => 'a Conditional Access policy for workload identities blocked the sign-in',
  90094: () => 'an administrator must grant consent to the app',
  65001: () => 'an administrator must grant consent to the app',
};

/** "the client secret is wrong or expired (AADSTS7000215)"; unknown codes keep Entra's own words. */
export function explainAadsts(codes: number[], context: AadstsContext, description?: string): string {
  const known = codes.find((code) => EXPLANATIONS[code]);
  const list = codes.map((code) => `AADSTS${code}`).join(', ');
  if (known !== undefined) return `${EXPLANATIONS[known](context)} (${list})`;
  const first = description
    ?.split(/\r?\n/)[0]
    .replace(/\s*Trace ID:.*$/, '')
    .trim();
  if (first) return `Entra ID refused the token request: ${first}`;
  return codes.length ? `Entra ID refused the token request (${list})` : 'Entra ID refused the token request';
}

/** AADSTS numbers from `error_codes`, or from the description when that is all there is. */
export function aadstsCodes(errorCodes: unknown, description?: string): number[] {
  if (Array.isArray(errorCodes)) return errorCodes.map(Number).filter((n) => Number.isInteger(n));
  return [...(description ?? '').matchAll(/AADSTS(\d+)/g)].map((m) => Number(m[1]));
}
