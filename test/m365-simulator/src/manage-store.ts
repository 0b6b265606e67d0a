import { hash32 } from './ids';
import type { AuditGenerator } from './audit-generator';
import {
  CONTENT_TYPES,
  contentTypeOfRecord,
  parseCreationTime,
  servedRecord,
  type ContentType,
  type ResolvedManageOptions,
} from './manage-options';
import type { RawRecord, SimTenant } from './types';

/**
 * Content blobs of the Management Activity API (microsoft-notes §2.2, §2.7). A record becomes available
 * `latencyMs` after its CreationTime (plus `lateRecordDelayMs` for the deterministic "late" share, or
 * per record `_simAvailableAt` / `_simDelayMs`); records available in the same `blobWindowMs` bucket
 * share a blob whose `contentCreated` is the bucket end. Some blobs are listed again later under a new
 * contentId (duplicates). Blobs are listed only once `contentCreated` ≤ the simulated now.
 */

export interface Blob {
  contentId: string;
  contentType: ContentType;
  createdMs: number;
  /** Indexes into tenant.auditRecords. */
  explicit: number[];
  /** Indexes of generated records. */
  generated: number[];
}

interface Bucket {
  contentType: ContentType;
  bucket: number;
  explicit: number[];
  generated: number[];
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
  private generatedBuckets = new Map<string, Bucket>();
  private byType = new Map<ContentType, Blob[]>();
  private byId = new Map<string, Blob>();
  private builtFor?: { array: RawRecord[]; length: number };

  constructor(
    private readonly tenant: SimTenant,
    private readonly opts: ResolvedManageOptions,
    private readonly startMs: number,
    private readonly generator?: AuditGenerator,
  ) {
    if (generator) {
      for (let i = 0; i < generator.config.count; i++) {
        const m = generator.meta(i);
        this.place(this.generatedBuckets, m.contentType, this.availableAt(m.creationMs, `gen:${i}`), undefined, i);
      }
    }
  }

  private isLate(key: string): boolean {
    return this.opts.lateRecordFraction > 0 && hash32(`late:${key}`) / 2 ** 32 < this.opts.lateRecordFraction;
  }

  private availableAt(creationMs: number, key: string): number {
    const base = Number.isNaN(creationMs) ? this.startMs : creationMs + this.opts.latencyMs;
    return this.isLate(key) ? base + this.opts.lateRecordDelayMs : base;
  }

  private recordAvailableAt(r: RawRecord, i: number): number {
    if (typeof r._simAvailableAt === 'string') {
      const t = parseCreationTime(r._simAvailableAt);
      if (!Number.isNaN(t)) return t;
    }
    const created = parseCreationTime(r.CreationTime);
    const extra = Number(r._simDelayMs ?? 0) || 0;
    return this.availableAt(created, String(r.Id ?? `rec:${i}`)) + extra;
  }

  private place(map: Map<string, Bucket>, type: ContentType, availableMs: number, explicit?: number, generated?: number) {
    const bucket = Math.floor(availableMs / this.opts.blobWindowMs);
    const key = `${type}|${bucket}`;
    let b = map.get(key);
    if (!b) map.set(key, (b = { contentType: type, bucket, explicit: [], generated: [] }));
    if (explicit !== undefined) b.explicit.push(explicit);
    if (generated !== undefined) b.generated.push(generated);
  }

  /** Rebuilds the blob list when records were added (control route, loaders). */
  private ensure(): void {
    const recs = this.tenant.auditRecords;
    if (this.builtFor && this.builtFor.array === recs && this.builtFor.length === recs.length) return;
    this.buckets = new Map();
    recs.forEach((r, i) => this.place(this.buckets, contentTypeOfRecord(r), this.recordAvailableAt(r, i), i));
    const merged = new Map<string, Bucket>();
    for (const source of [this.generatedBuckets, this.buckets]) {
      for (const [k, b] of source) {
        const m = merged.get(k) ?? { contentType: b.contentType, bucket: b.bucket, explicit: [], generated: [] };
        m.explicit.push(...b.explicit);
        m.generated.push(...b.generated);
        merged.set(k, m);
      }
    }
    this.byType = new Map(CONTENT_TYPES.map((t) => [t, []]));
    this.byId = new Map();
    const W = this.opts.blobWindowMs;
    for (const b of merged.values()) {
      const start = b.bucket * W;
      const created = start + W;
      const blob: Blob = { contentId: contentIdFor(b.contentType, start, created, 'sim0000'), contentType: b.contentType, createdMs: created, explicit: b.explicit, generated: b.generated };
      this.add(blob);
      const every = this.opts.duplicateBlobEvery;
      if (every > 0 && hash32(blob.contentId) % every === 0) {
        const dupCreated = created + this.opts.duplicateDelayMs;
        this.add({ ...blob, contentId: contentIdFor(b.contentType, start, dupCreated, 'dup0001'), createdMs: dupCreated });
      }
    }
    for (const list of this.byType.values()) list.sort((a, b) => a.createdMs - b.createdMs || a.contentId.localeCompare(b.contentId));
    this.builtFor = { array: recs, length: recs.length };
  }

  private add(blob: Blob) {
    this.byType.get(blob.contentType)!.push(blob);
    this.byId.set(blob.contentId, blob);
  }

  /** Blobs with contentCreated in [startMs, endMs) that exist by `nowMs`, ordered by contentCreated. */
  list(type: ContentType, startMs: number, endMs: number, nowMs: number): Blob[] {
    this.ensure();
    const all = this.byType.get(type) ?? [];
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (all[mid].createdMs < startMs) lo = mid + 1;
      else hi = mid;
    }
    const out: Blob[] = [];
    for (let i = lo; i < all.length && all[i].createdMs < endMs; i++) if (all[i].createdMs <= nowMs) out.push(all[i]);
    return out;
  }

  get(contentId: string): Blob | undefined {
    this.ensure();
    return this.byId.get(contentId);
  }

  records(blob: Blob): RawRecord[] {
    const out: RawRecord[] = blob.explicit.map((i) => servedRecord(this.tenant.auditRecords[i]));
    if (this.generator) for (const i of blob.generated) out.push(this.generator.record(i));
    return out;
  }

  /** Total number of blobs (for diagnostics). */
  size(): number {
    this.ensure();
    return this.byId.size;
  }
}
