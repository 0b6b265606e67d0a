import { createHash } from 'node:crypto';

export type ActorType = 'apiKey' | 'user' | 'system';

export interface AuditActor {
  type: ActorType;
  id: string;
  name: string;
}

/** Who is acting and under which request id: what a service needs to write its audit entries. */
export interface AuditContext {
  actor: AuditActor;
  requestId: string;
}

/** What a module records. `seq`, `at` and the hashes are assigned by the writer. */
export interface AuditEntryInput {
  event: string;
  actor: AuditActor;
  tenantId?: string | null;
  actionId?: string | null;
  subject?: string | null;
  requestId: string;
  data?: Record<string, unknown>;
}

export interface AuditEntry {
  seq: number;
  at: string;
  event: string;
  actor: AuditActor;
  tenantId: string | null;
  actionId: string | null;
  subject: string | null;
  requestId: string;
  data: Record<string, unknown>;
  /** Hex. */
  prevHash: string;
  /** Hex. */
  hash: string;
}

export const GENESIS_HASH = Buffer.alloc(32);
export const GENESIS_HASH_HEX = GENESIS_HASH.toString('hex');

/**
 * JSON with keys sorted at every level and no insignificant whitespace; `undefined` members are
 * dropped as JSON.stringify drops them. The same value always gives the same bytes.
 */
export function canonicalJson(value: unknown): string {
  // Written with plain loops: verify and export run this for every entry of a large log.
  if (value === null || value === undefined) return 'null';
  if (typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + canonicalJson(value[i]);
    return out + ']';
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonicalJson((value as { toJSON: () => unknown }).toJSON());
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    out += (first ? '' : ',') + JSON.stringify(key) + ':' + canonicalJson(member);
    first = false;
  }
  return out + '}';
}

/** The fields the hash covers: everything but the hashes themselves. */
export function hashedFields(entry: Omit<AuditEntry, 'hash' | 'prevHash'>) {
  return {
    seq: entry.seq,
    at: entry.at,
    event: entry.event,
    actor: entry.actor,
    tenantId: entry.tenantId,
    actionId: entry.actionId,
    subject: entry.subject,
    requestId: entry.requestId,
    data: entry.data,
  };
}

/**
 * `canonicalJson(hashedFields(entry))`, written out: the keys of an entry are known and already in
 * order, so only `data` needs the general walk (verify runs this for every entry of a large log).
 */
export function canonicalEntryJson(entry: Omit<AuditEntry, 'hash' | 'prevHash'>): string {
  const s = JSON.stringify;
  return (
    `{"actionId":${s(entry.actionId)},"actor":{"id":${s(entry.actor.id)},"name":${s(entry.actor.name)},"type":${s(entry.actor.type)}}` +
    `,"at":${s(entry.at)},"data":${canonicalJson(entry.data)},"event":${s(entry.event)},"requestId":${s(entry.requestId)}` +
    `,"seq":${s(entry.seq)},"subject":${s(entry.subject)},"tenantId":${s(entry.tenantId)}}`
  );
}

/** hash = SHA-256(prevHash ‖ canonical JSON of the entry). */
export function chainHash(prevHash: Buffer, entry: Omit<AuditEntry, 'hash' | 'prevHash'>): Buffer {
  return createHash('sha256').update(prevHash).update(canonicalEntryJson(entry), 'utf8').digest();
}

/** chainHashHex from the canonical JSON in parts: the text before `data`, `data`, and the text after. */
export function chainHashOfParts(prevHash: string, before: string, data: Record<string, unknown>, after: string): string {
  return createHash('sha256')
    .update(prevHash, 'hex')
    .update(before + canonicalJson(data) + after, 'utf8')
    .digest('hex');
}

/** chainHash with the hashes as hex, as the log is read and written. */
export function chainHashHex(prevHash: string, entry: Omit<AuditEntry, 'hash' | 'prevHash'>): string {
  return createHash('sha256').update(prevHash, 'hex').update(canonicalEntryJson(entry), 'utf8').digest('hex');
}

/** Data as it will read back from jsonb: plain JSON values only (Dates become strings, undefined goes). */
export function normalizeData(data: Record<string, unknown> | undefined): Record<string, unknown> {
  return data === undefined ? {} : (JSON.parse(JSON.stringify(data)) as Record<string, unknown>);
}
