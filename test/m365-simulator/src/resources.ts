import type { SimHost } from './types';

/**
 * The resources a token can be asked for, and the audiences each simulated API accepts.
 * A scope is `{resource}/.default` (microsoft-notes §1.1): either the real global-cloud resource URI or the
 * simulator's own base URL for that host.
 */

export type ApiHost = Exclude<SimHost, 'login'>;

export interface KnownResource {
  uri: string;
  host: ApiHost;
  /** App id of Microsoft's first-party resource application (also a valid `aud` form). */
  appId: string;
  /** Defender XDR (api.security.microsoft.com): tokens are issued, but MDE machine APIs refuse them (microsoft-notes M16). */
  xdr?: boolean;
}

export const MICROSOFT_RESOURCES: KnownResource[] = [
  { uri: 'https://graph.microsoft.com', host: 'graph', appId: '00000003-0000-0000-c000-000000000000' },
  { uri: 'https://manage.office.com', host: 'manage', appId: 'c5393580-f805-4401-95e8-94b7a6ef2fc2' },
  // "WindowsDefenderATP" (microsoft-notes §1.1).
  { uri: 'https://api.securitycenter.microsoft.com', host: 'defender', appId: 'fc780465-2017-40d4-a0c5-307022471b92' },
  { uri: 'https://api.security.microsoft.com', host: 'defender', appId: '8ee8fdad-f234-4243-8f3b-15c294843740', xdr: true },
];

export function normaliseResourceUri(uri: string): string {
  return uri.trim().replace(/\/+$/, '').toLowerCase();
}

export interface ResolvedResource {
  host: ApiHost;
  /** The `aud` the token gets: the resource URI as asked (real URI or sim base URL). */
  audience: string;
  xdr: boolean;
}

/** Maps a resource URI (scope without `/.default`) to a simulated host; undefined when unknown. */
export function resolveResource(resource: string, baseUrls: Record<SimHost, string>): ResolvedResource | undefined {
  const n = normaliseResourceUri(resource);
  const known = MICROSOFT_RESOURCES.find((r) => r.uri === n || r.appId === n);
  if (known) return { host: known.host, audience: known.uri, xdr: !!known.xdr };
  for (const host of ['graph', 'manage', 'defender'] as const) {
    const base = normaliseResourceUri(baseUrls[host]);
    const alt = base.replace('://localhost:', '://127.0.0.1:');
    if (n === base || n === alt) return { host, audience: baseUrls[host], xdr: false };
  }
  return undefined;
}

/** Audiences an API host accepts: its real URI, its first-party app id and the sim base URL. */
export function acceptedAudiences(host: ApiHost, baseUrls: Record<SimHost, string>): string[] {
  const real = MICROSOFT_RESOURCES.filter((r) => r.host === host && !r.xdr).flatMap((r) => [r.uri, r.appId]);
  const base = normaliseResourceUri(baseUrls[host]);
  return [...real, base, base.replace('://localhost:', '://127.0.0.1:')].map(normaliseResourceUri);
}

export function isXdrAudience(aud: string): boolean {
  const n = normaliseResourceUri(aud);
  return MICROSOFT_RESOURCES.some((r) => r.xdr && (r.uri === n || r.appId === n));
}
