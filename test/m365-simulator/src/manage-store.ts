import { hash32 } from './ids';
import type { AuditGenerator } from './audit-generator';
import { CONTENT_TYPES, contentTypeOfRecord, parseCreationTime, servedRecord, type ContentType, type ResolvedManageOptions } from './manage-options';
import { rawTextOf } from './raw-records';
import type { RawRecord, SimTenant } from './types';

/**
 * Content blobs of the Management Activity API (microsoft-notes §2.2, §2.7). A record becomes available
 * `latencyMs` after its CreationTime (plus `lateRecordDelayMs` for the deterministic "late" share, or
 * per record `_simAvailableAt` / `_simDelayMs`); records available in the same `blobWindowMs` bucket
 * share a blob whose `contentCreated` is the bucket end. Some blobs are listed again later under a new
 * contentId (duplicates). Blobs are listed only once `contentCreated` ≤ the simulated now. A blob a
 * client has listed or fetched never changes: a record added later for its bucket goes into a new blob
 * of that bucket (`sim0001`, …) created no earlier than the moment it was added, so every record is
 * served exactly once (plus re-deliveries) whenever it arrives.
 */

/** The records of one blob: shared by the blob and its re-delivery; frozen once a client has seen it. */
interface Generation {
  /** Indexes into tenant.auditRecords. */
  explicit: number[];
  /** Indexes of generated records. */
  generated: number[];
  /** Records of the "late" share (microsoft-notes §2.7) among them. */
  late: number;
  /** Listed or fetched: Microsoft never adds records to content a client may already have. */
  exposed: boolean;
}

export interface Blob {
  contentId: string;
  contentType: ContentType;
  createdMs: number;
  /** Indexes into tenant.auditRecords. */
  explicit: number[];
  /** Indexes of generated records. */
  generated: number[];
  /** A re-delivery of another blob's records under a new contentId. */
  duplicate: boolean;
  generation: Generation;
}

interface Bucket {
  contentType: ContentType;
  bucket: number;
  generations: Generation[];
}

/** Per content type, what exists now and what is still to come (`GET /_sim/state/tenants/:t`). */
export interface ContentTypeCounts {
  /** Records of this content type, loaded or generated, whenever they become available. */
  records: number;
  /** Records in blobs listable now (contentCreated ≤ now, not expired), re-deliveries not counted. */
  available: number;
  /** Records whose blob is not listable yet, by cause; `nextAt` is when the next one becomes available. */
  pending: { total: number; latency: number; late: number; nextAt: string | null; lastAt: string | null };
  /** Records whose blob is older than the retention: never served again. */
  expired: number;
  /** Blobs listable now, re-deliveries included, and the records those re-deliveries repeat. */
  blobs: { available: number; duplicates: number; duplicateRecords: number };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `20250303114501234000000`: yyyyMMddHHmmss + 9 fraction digits, as in the doc's contentIds. */
function stamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}${pad(d.getUTCMilliseconds(), 3)}000000`;
}

export const CONTENT_ID_RE = /^\d{23}\$\d{23}\$[a-z_]+\$[A-Za-z_]+\$(sim|dup)\d{4}$/;

function contentIdFor(type: ContentType, startMs: number, createdMs: number, variant: string): string {
  const snake = type.replace('.', '_');
  return `${stamp(startMs)}$${stamp(createdMs)}$${snake.toLowerCase()}$${snake}$${variant}`;
}

export class TenantAuditIndex {
  private buckets = new Map<string, Bucket>();
  private byType = new Map<ContentType, Blob[]>(CONTENT_TYPES.map((t) => [t, []]));
  private byId = new Map<string, Blob>();
  private unsorted = new Set<ContentType>();
  private placed?: { array: RawRecord[]; length: number };

  constructor(
    private readonly tenant: SimTenant,
    private readonly opts: ResolvedManageOptions,
    private readonly startMs: number,
    private readonly generator?: AuditGenerator,
  ) {
    this.placeGenerated();
  }

  private placeGenerated(): void {
    if (!this.generator) return;
    for (let i = 0; i < this.generator.config.count; i++) {
      const m = this.generator.meta(i);
      const key = `gen:${i}`;
      this.place(m.contentType, this.availableAt(m.creationMs, key), this.isLate(key), this.startMs, undefined, i);
    }
  }

  private isLate(key: string): boolean {
    return this.opts.lateRecordFraction > 0 && hash32(`late:${key}`) / 2 ** 32 < this.opts.lateRecordFraction;
  }

  private availableAt(creationMs: number, key: string): number {
    const base = Number.isNaN(creationMs) ? this.startMs : creationMs + this.opts.latencyMs;
    return this.isLate(key) ? base + this.opts.lateRecordDelayMs : base;
  }

  private explicitPlacement(r: RawRecord, i: number): { availableMs: number; late: boolean } {
    if (typeof r._simAvailableAt === 'string') {
      const t = parseCreationTime(r._simAvailableAt);
      if (!Number.isNaN(t)) return { availableMs: t, late: false };
    }
    const key = String(r.Id ?? `rec:${i}`);
    const extra = Number(r._simDelayMs ?? 0) || 0;
    return { availableMs: this.availableAt(parseCreationTime(r.CreationTime), key) + extra, late: this.isLate(key) };
  }

  /**
   * Puts a record into its bucket's newest blob, or, when a client has already seen that blob, into a
   * new one (`sim0001`, …) created no earlier than now: content, once published, never changes.
   */
  private place(type: ContentType, availableMs: number, late: boolean, nowMs: number, explicit?: number, generated?: number) {
    const W = this.opts.blobWindowMs;
    const bucket = Math.floor(availableMs / W);
    const key = `${type}|${bucket}`;
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = { contentType: type, bucket, generations: [] }));
    let gen = b.generations[b.generations.length - 1];
    if (!gen || gen.exposed) {
      gen = { explicit: [], generated: [], late: 0, exposed: false };
      const n = b.generations.push(gen) - 1;
      const start = bucket * W;
      const created = n === 0 ? start + W : Math.max(start + W, nowMs);
      this.publish(
        {
          contentId: contentIdFor(type, start, created, `sim${pad(n, 4)}`),
          contentType: type,
          createdMs: created,
          explicit: gen.explicit,
          generated: gen.generated,
          duplicate: false,
          generation: gen,
        },
        start,
        n,
      );
    }
    if (explicit !== undefined) gen.explicit.push(explicit);
    if (generated !== undefined) gen.generated.push(generated);
    if (late) gen.late += 1;
  }

  /** Adds a blob (and its re-delivery, for the configured share) to the listings. */
  private publish(blob: Blob, start: number, n: number) {
    this.add(blob);
    const every = this.opts.duplicateBlobEvery;
    if (every > 0 && hash32(blob.contentId) % every === 0) {
      const dupCreated = blob.createdMs + this.opts.duplicateDelayMs;
      this.add({ ...blob, contentId: contentIdFor(blob.contentType, start, dupCreated, `dup${pad(n + 1, 4)}`), createdMs: dupCreated, duplicate: true });
    }
  }

  private add(blob: Blob) {
    this.byType.get(blob.contentType)!.push(blob);
    this.byId.set(blob.contentId, blob);
    this.unsorted.add(blob.contentType);
  }

  /** Places records added since the last call (control route, loaders); starts over if the array was replaced. */
  private ensure(nowMs: number): void {
    const recs = this.tenant.auditRecords;
    if (this.placed && this.placed.array === recs && this.placed.length === recs.length) return;
    let from = this.placed?.array === recs ? this.placed.length : 0;
    if (this.placed && this.placed.array !== recs) {
      this.buckets = new Map();
      this.byType = new Map(CONTENT_TYPES.map((t) => [t, []]));
      this.byId = new Map();
      this.placeGenerated();
      from = 0;
    }
    for (let i = from; i < recs.length; i++) {
      const { availableMs, late } = this.explicitPlacement(recs[i], i);
      this.place(contentTypeOfRecord(recs[i]), availableMs, late, nowMs, i);
    }
    this.placed = { array: recs, length: recs.length };
  }

  private sorted(type: ContentType): Blob[] {
    const all = this.byType.get(type) ?? [];
    if (this.unsorted.delete(type)) all.sort((a, b) => a.createdMs - b.createdMs || a.contentId.localeCompare(b.contentId));
    return all;
  }

  /** Blobs with contentCreated in [startMs, endMs) that exist by `nowMs`, ordered by contentCreated. */
  list(type: ContentType, startMs: number, endMs: number, nowMs: number): Blob[] {
    this.ensure(nowMs);
    const all = this.sorted(type);
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (all[mid].createdMs < startMs) lo = mid + 1;
      else hi = mid;
    }
    const out: Blob[] = [];
    for (let i = lo; i < all.length && all[i].createdMs < endMs; i++) {
      if (all[i].createdMs > nowMs) continue;
      all[i].generation.exposed = true;
      out.push(all[i]);
    }
    return out;
  }

  /** The blob, once it exists by `nowMs`. */
  get(contentId: string, nowMs: number): Blob | undefined {
    this.ensure(nowMs);
    const blob = this.byId.get(contentId);
    if (!blob || blob.createdMs > nowMs) return undefined;
    blob.generation.exposed = true;
    return blob;
  }

  records(blob: Blob): RawRecord[] {
    const out: RawRecord[] = blob.explicit.map((i) => servedRecord(this.tenant.auditRecords[i]));
    if (this.generator) for (const i of blob.generated) out.push(this.generator.record(i));
    return out;
  }

  /** The blob's JSON body: loaded records as the text they came in (raw-records.ts), the others serialized. */
  body(blob: Blob): string {
    const parts = blob.explicit.map((i) => {
      const record = this.tenant.auditRecords[i];
      return rawTextOf(record) ?? JSON.stringify(servedRecord(record));
    });
    if (this.generator) for (const i of blob.generated) parts.push(JSON.stringify(this.generator.record(i)));
    return `[${parts.join(',')}]`;
  }

  /** What exists per content type at `nowMs`: records, available, still to come, expired. */
  counts(nowMs: number): Record<ContentType, ContentTypeCounts> {
    this.ensure(nowMs);
    const out = {} as Record<ContentType, ContentTypeCounts>;
    for (const type of CONTENT_TYPES) {
      const c: ContentTypeCounts = {
        records: 0,
        available: 0,
        pending: { total: 0, latency: 0, late: 0, nextAt: null, lastAt: null },
        expired: 0,
        blobs: { available: 0, duplicates: 0, duplicateRecords: 0 },
      };
      let next = Infinity;
      let last = -Infinity;
      for (const blob of this.byType.get(type) ?? []) {
        const n = blob.explicit.length + blob.generated.length;
        const expired = blob.createdMs + this.opts.contentRetentionMs <= nowMs;
        const listable = blob.createdMs <= nowMs && !expired;
        if (blob.duplicate) {
          if (listable) {
            c.blobs.available += 1;
            c.blobs.duplicates += 1;
            c.blobs.duplicateRecords += n;
          }
          continue;
        }
        c.records += n;
        if (listable) {
          c.available += n;
          c.blobs.available += 1;
        } else if (expired) c.expired += n;
        else {
          c.pending.total += n;
          c.pending.late += blob.generation.late;
          c.pending.latency += n - blob.generation.late;
          next = Math.min(next, blob.createdMs);
          last = Math.max(last, blob.createdMs);
        }
      }
      if (Number.isFinite(next)) c.pending.nextAt = new Date(next).toISOString();
      if (Number.isFinite(last)) c.pending.lastAt = new Date(last).toISOString();
      out[type] = c;
    }
    return out;
  }

  /** Total number of blobs (for diagnostics). */
  size(): number {
    return this.byId.size;
  }
}
