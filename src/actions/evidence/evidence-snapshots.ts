import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { canonicalJson } from '../../audit-log/audit-entry';
import type { ActionHandler, ActionTarget } from '../action-handler';

/**
 * One piece of what a target looked like before Cordon changed it. `absent`: the tenant cannot show it
 * (no licence, no permission, not applicable) — said, not fatal. `failed`: the read went wrong; the action
 * goes on regardless (containment comes first).
 */
export interface SnapshotItem {
  name: string;
  status: 'present' | 'absent' | 'failed';
  note?: string;
  content?: unknown;
}

export interface HashedSnapshotItem extends SnapshotItem {
  /** SHA-256 (hex) of the item's canonical JSON (`evidenceSha256`). */
  sha256: string;
}

export interface SnapshotInput {
  /** The action the snapshot is for. */
  actionId: string;
  tenantId: string;
  target: ActionTarget;
  /** Capability statuses of the tenant, e.g. { 'mailbox-rules': 'available' }. */
  capabilities: Record<string, string>;
}

/** A named read of the snapshot: it answers the content, or `absent(why)`. */
export type SnapshotRead = (input: SnapshotInput) => Promise<unknown>;

/** What a snapshot read answers when the tenant cannot show that part. */
export class Absent {
  constructor(readonly note: string) {}
}
export const absent = (note: string) => new Absent(note);

/** How long one read may take before it is recorded as failed (the action does not wait longer). */
export const SNAPSHOT_READ_TIMEOUT_MS = 5000;

/** The hash an item is known by, in the audit entry and on the evidence route. */
export function evidenceSha256(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/**
 * The snapshot reads per kind of target, registered by the integration modules that can make them
 * (the Entra module for users, the Defender module for devices). The engine takes a snapshot before the
 * first step of every action whose target kind has reads, unless its handler opts out.
 */
@Injectable()
export class EvidenceSnapshots {
  private readonly reads = new Map<ActionHandler['targetKind'], Array<{ name: string; read: SnapshotRead }>>();

  register(kind: ActionHandler['targetKind'], name: string, read: SnapshotRead): void {
    const list = this.reads.get(kind) ?? [];
    if (list.some((r) => r.name === name)) throw new Error(`snapshot read ${kind}/${name} is registered twice`);
    list.push({ name, read });
    this.reads.set(kind, list);
  }

  covers(handler: Pick<ActionHandler, 'targetKind' | 'snapshot'>): boolean {
    return handler.snapshot !== false && (this.reads.get(handler.targetKind)?.length ?? 0) > 0;
  }

  /** Every read at once, each bounded by SNAPSHOT_READ_TIMEOUT_MS; never throws. */
  async take(kind: ActionHandler['targetKind'], input: SnapshotInput, timeoutMs = SNAPSHOT_READ_TIMEOUT_MS): Promise<HashedSnapshotItem[]> {
    const reads = this.reads.get(kind) ?? [];
    const items = await Promise.all(reads.map(({ name, read }) => readOne(name, () => read(input), timeoutMs)));
    return items.map((item) => ({ ...item, sha256: evidenceSha256(item) }));
  }
}

async function readOne(name: string, read: () => Promise<unknown>, timeoutMs: number): Promise<SnapshotItem> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the read took longer than ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
  });
  try {
    const content = await Promise.race([read(), timeout]);
    if (content instanceof Absent) return { name, status: 'absent', note: content.note };
    return { name, status: 'present', content: jsonSafe(content) };
  } catch (error) {
    return { name, status: 'failed', note: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** What the audit entry will hold: dates as ISO strings, no undefined (so the hash is of what is stored). */
function jsonSafe(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}
