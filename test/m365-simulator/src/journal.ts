import type { IncomingHttpHeaders } from 'node:http';
import { decodeJwt } from './jwt';
import type { SimHost } from './types';

/**
 * Request journal: a ring buffer of the last N requests the Microsoft surfaces received, so tests can
 * assert what Cordon sent (headers such as `Prefer`, `client-request-id`, the token's audience...).
 * Tokens are never stored: `authorization` keeps its scheme plus the token's `aud`/`appid` claims.
 */

export interface JournalEntry {
  seq: number;
  /** Simulated time of arrival (ISO). */
  time: string;
  host: SimHost;
  method: string;
  path: string;
  /** Raw query string without `?`. */
  query: string;
  headers: Record<string, string>;
  /** Request body as text, truncated. */
  body?: string;
  status: number;
  durationMs: number;
  /** Set when a fault answered ("status", "latency", "drop"). */
  fault?: string;
}

export interface JournalFilter {
  host?: string;
  method?: string;
  /** Substring of the path (case-insensitive). */
  path?: string;
  /** Only entries with seq greater than this number, or later than this ISO time. */
  since?: string | number;
}

const KEPT_HEADERS = ['content-type', 'prefer', 'client-request-id', 'user-agent', 'accept-language', 'retry-attempt'];
const BODY_LIMIT = 4096;

export function redactAuthorization(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const [scheme, token] = value.split(/\s+/, 2);
  if (scheme.toLowerCase() !== 'bearer' || !token) return `${scheme} (redacted)`;
  const jwt = decodeJwt(token);
  if (!jwt) return `${scheme} (not a JWT)`;
  const { aud, appid, azp } = jwt.payload as Record<string, unknown>;
  return `${scheme} (aud=${String(aud)}, appid=${String(appid ?? azp)})`;
}

export function journalHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  const auth = redactAuthorization(typeof h.authorization === 'string' ? h.authorization : undefined);
  if (auth) out.authorization = auth;
  for (const name of KEPT_HEADERS) {
    const v = h[name];
    if (v !== undefined) out[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/**
 * Form fields whose values never reach the journal. `client_assertion` is kept: it is short-lived and
 * tests inspect its header (alg, x5t / x5t#S256).
 */
const SECRET_FIELDS = /(^|&)(client_secret|password|access_token|refresh_token)=[^&]*/gi;

/** JSON members whose string values never reach the journal (a `passwordProfile.password`, a TAP…). */
const SECRET_MEMBERS = /("(?:password|newPassword|currentPassword|temporaryAccessPass|secretKey)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi;

export function truncateBody(raw: Buffer, contentType?: string): string | undefined {
  if (!raw.length) return undefined;
  const type = (contentType ?? '').toLowerCase();
  let text: string;
  if (type.includes('x-www-form-urlencoded')) {
    text = raw.subarray(0, BODY_LIMIT).toString('utf8').replace(SECRET_FIELDS, '$1$2=(redacted)');
  } else {
    // Any other body may be JSON whatever its content type says. Redact before truncating, so that a
    // secret cut by the limit cannot survive half-quoted.
    text = raw.toString('utf8').replace(SECRET_MEMBERS, '$1"(redacted)"').slice(0, BODY_LIMIT);
  }
  return raw.length > BODY_LIMIT ? `${text}…(${raw.length} bytes)` : text;
}

export class Journal {
  private entries: JournalEntry[] = [];
  private seq = 0;

  constructor(private readonly capacity = 10_000) {}

  add(entry: Omit<JournalEntry, 'seq'>): JournalEntry {
    const full = { ...entry, seq: ++this.seq };
    this.entries.push(full);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    return full;
  }

  list(filter: JournalFilter = {}): JournalEntry[] {
    const since = filter.since;
    const sinceSeq = since !== undefined && /^\d+$/.test(String(since)) ? Number(since) : undefined;
    const sinceTime = since !== undefined && sinceSeq === undefined ? Date.parse(String(since)) : undefined;
    return this.entries.filter(
      (e) =>
        (!filter.host || e.host === filter.host) &&
        (!filter.method || e.method.toUpperCase() === filter.method.toUpperCase()) &&
        (!filter.path || e.path.toLowerCase().includes(filter.path.toLowerCase())) &&
        (sinceSeq === undefined || e.seq > sinceSeq) &&
        (sinceTime === undefined || Number.isNaN(sinceTime) || Date.parse(e.time) > sinceTime),
    );
  }

  clear(): void {
    this.entries = [];
  }

  /** The last sequence number handed out (use it as `since` to see only later requests). */
  lastSeq(): number {
    return this.seq;
  }
}
