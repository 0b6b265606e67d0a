import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

/**
 * Defender indicator types, actions and severities (microsoft-notes M44), and the checks Cordon makes
 * on a value before it ever reaches Microsoft: a value must be of its type, and is normalised the way
 * Defender compares it (hashes lower-case, domains in punycode).
 */

export const INDICATOR_TYPES = ['FileSha1', 'FileSha256', 'FileMd5', 'CertificateThumbprint', 'IpAddress', 'DomainName', 'Url'] as const;
export type IndicatorType = (typeof INDICATOR_TYPES)[number];

/** The current actions (microsoft-notes M44); `Alert` and `AlertAndBlock` are refused with their replacement. */
export const INDICATOR_ACTIONS = ['Block', 'BlockAndRemediate', 'Warn', 'Audit', 'Allowed'] as const;
export type IndicatorAction = (typeof INDICATOR_ACTIONS)[number];
export const DEPRECATED_ACTIONS: Record<string, string> = {
  Alert: '`Audit` with `generateAlert: true`',
  AlertAndBlock: '`Block` with `generateAlert: true`',
};

export const INDICATOR_SEVERITIES = ['Informational', 'Low', 'Medium', 'High'] as const;

/** Without `expiresAt`, an indicator expires after 90 days; at most 365 days ahead (microsoft-notes M46). */
export const DEFAULT_EXPIRY_DAYS = 90;
export const MAX_EXPIRY_DAYS = 365;
const DAY_MS = 86_400_000;

const HEX_LENGTH: Partial<Record<IndicatorType, number>> = { FileSha1: 40, FileSha256: 64, FileMd5: 32, CertificateThumbprint: 40 };

/** Addresses that are not public (private, loopback, link-local, shared, documentation-free reserved, multicast). */
function isPublicIp(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split('.').map(Number);
    if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
    if (a === 100 && b >= 64 && b <= 127) return false;
    if (a === 169 && b === 254) return false;
    if (a === 172 && b >= 16 && b <= 31) return false;
    if (a === 192 && b === 168) return false;
    return true;
  }
  const v = ip.toLowerCase();
  if (v === '::' || v === '::1') return false;
  if (/^f[cd]/.test(v) || /^fe[89ab]/.test(v) || /^ff/.test(v)) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v);
  return mapped ? isPublicIp(mapped[1]) : true;
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** The value as Defender should get it, or the reason it is not a value of `type`. */
export function normaliseIndicatorValue(type: IndicatorType, raw: string): { value: string } | { problem: string } {
  const value = raw.trim();
  if (value.length === 0) return { problem: 'must not be empty' };
  const hex = HEX_LENGTH[type];
  if (hex !== undefined) {
    return new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(value) ? { value: value.toLowerCase() } : { problem: `a ${type} is ${hex} hexadecimal characters` };
  }
  switch (type) {
    case 'IpAddress': {
      if (value.includes('/')) return { problem: 'CIDR ranges are not supported: give one address' };
      const ip = value.replace(/^\[(.*)\]$/, '$1');
      if (!isIP(ip)) return { problem: 'is not an IPv4 or IPv6 address' };
      if (!isPublicIp(ip)) return { problem: 'is not a public IP address (Defender supports public addresses only)' };
      return { value: ip.toLowerCase() };
    }
    case 'DomainName': {
      if (/[/:@\s]/.test(value)) return { problem: 'is a domain name only: no scheme, path, port or spaces' };
      const ascii = domainToASCII(value.replace(/\.$/, ''));
      if (!ascii || ascii.length > 253) return { problem: 'is not a valid domain name' };
      const labels = ascii.split('.');
      if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return { problem: 'is not a valid domain name' };
      return { value: ascii };
    }
    case 'Url': {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        return { problem: 'is not a URL' };
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: 'must be an http or https URL' };
      if (!url.hostname) return { problem: 'has no host' };
      return { value: url.href };
    }
    default:
      return { problem: `unknown indicator type ${String(type)}` };
  }
}

/** The expiry to send: `expiresAt` when given (it must be in the future, at most a year ahead), else 90 days from now. */
export function expiryOf(expiresAt: string | undefined, nowMs: number): { expirationTime: string } | { problem: string } {
  if (expiresAt === undefined) return { expirationTime: new Date(nowMs + DEFAULT_EXPIRY_DAYS * DAY_MS).toISOString() };
  const ms = Date.parse(expiresAt);
  if (Number.isNaN(ms)) return { problem: 'must be an ISO 8601 date-time' };
  if (ms <= nowMs) return { problem: 'must be in the future' };
  if (ms > nowMs + MAX_EXPIRY_DAYS * DAY_MS) return { problem: `must be at most ${MAX_EXPIRY_DAYS} days ahead` };
  return { expirationTime: new Date(ms).toISOString() };
}

/** Defender's upsert key (microsoft-notes M44): hashes, addresses and domains compare case-insensitively, a URL as written. */
export function indicatorKey(type: string, value: string): string {
  return `${type.toLowerCase()}|${type === 'Url' ? value : value.toLowerCase()}`;
}

export function isExpired(expirationTime: string | null | undefined, nowMs: number): boolean {
  return typeof expirationTime === 'string' && Date.parse(expirationTime) <= nowMs;
}
