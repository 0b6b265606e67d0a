import { isIP } from 'node:net';

/**
 * Normalizers every integration's records share, for the events store's columns (shaped on the
 * Management Activity common schema, microsoft-notes §2.3): the client address, the user and the result.
 */

/**
 * ClientIP comes as IPv4, IPv6, `ip:port`, `[ipv6]:port`, empty or null (microsoft-notes M7). Answers the bare
 * address or null when nothing usable is there (the raw record keeps what Microsoft sent).
 */
export function normalizeClientIp(value: unknown): string | null {
  let raw = text(value);
  if (!raw) return null;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(raw);
  if (bracketed) raw = bracketed[1];
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(raw)) raw = raw.slice(0, raw.lastIndexOf(':'));
  raw = raw.replace(/%.*$/, ''); // an IPv6 zone index means nothing off the host
  if (isIP(raw) === 0) return null;
  return raw.toLowerCase();
}

/** UPNs are case-insensitive; stored lower-case so `?user=` matches whatever casing a workload used. */
export function normalizeUserId(value: unknown): string | null {
  const raw = text(value);
  return raw ? raw.toLowerCase() : null;
}

const RESULT_STATUS: Record<string, string> = {
  succeeded: 'Succeeded',
  success: 'Succeeded',
  true: 'Succeeded',
  failed: 'Failed',
  failure: 'Failed',
  false: 'Failed',
  partiallysucceeded: 'PartiallySucceeded',
};

/** ResultStatus casing and vocabulary differ by workload (Exchange admin says True/False; microsoft-notes M7). */
export function normalizeResultStatus(value: unknown): string | null {
  const raw = text(value);
  if (!raw) return null;
  return RESULT_STATUS[raw.toLowerCase()] ?? raw;
}

/** A field as trimmed text: numbers and booleans as written, empty as null. */
export function text(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}
