import { isIP } from 'node:net';

/**
 * Where a webhook may point: https only; plain http only to this machine (loopback), which tests and
 * a local relay need and which never crosses a network. No credentials in the URL (they would be
 * stored and shown in clear); the secret is for that.
 */
export function webhookUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'url must be an absolute URL';
  }
  if (url.username || url.password) return 'url must not carry credentials; use the secret';
  if (url.hash) return 'url must not have a fragment';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  return 'url must be https (http is allowed only for loopback hosts)';
}

/** `localhost` itself and loopback literals; not `*.localhost`, which a resolver may send elsewhere. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}
