import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { crashPoint } from '../common/crash-points';
import { decodeCursor, Page, PageQueryDto, toPage } from '../common/paging';
import { Problem } from '../common/problem';
import { AuditEntry, AuditEntryInput, chainHashOfParts, GENESIS_HASH_HEX } from './audit-entry';
import { AuditFilter, AuditLogRepository, pendingInsert, StatementEntry } from './audit-log.repository';
import { AuditSealer } from './audit-sealer';
import { AuditEntryResponse, toAuditEntryResponse } from './dto/audit-log.dto';

export interface VerifyResult {
  ok: boolean;
  checked: number;
  firstBadSeq?: number;
  /** Why the first bad entry is bad. */
  reason?: string;
  /** The chain head when the whole log was checked: keep it outside the database to detect a rewrite later. */
  lastSeq: number;
  lastHash: string;
}

export const auditUnavailable = () =>
  new Problem(
    503,
    'audit-log-unavailable',
    'Audit log unavailable',
    'The action could not be recorded in the audit log, so it was not carried out. Try again.',
  );

/**
 * The action log. Modules call `append(manager, entry)` inside the transaction that makes the change,
 * so the change and its record commit together or not at all: if the entry cannot be written the
 * change does not happen and the caller gets 503 (fail closed). The entry is sealed into the hash
 * chain (seq, hashes) right after the commit, together with other writers' entries (AuditSealer);
 * every read seals what is pending first.
 */
@Injectable()
export class AuditLogService {
  private readonly logger = new Logger(AuditLogService.name);

  constructor(
    private readonly repository: AuditLogRepository,
    private readonly sealer: AuditSealer,
  ) {}

  /** Appends one entry, or several in order (one statement), inside the caller's transaction. */
  async append(manager: EntityManager, entry: AuditEntryInput | AuditEntryInput[]): Promise<void> {
    const entries = Array.isArray(entry) ? entry : [entry];
    try {
      await this.repository.appendPendingMany(manager, entries);
      this.sealer.appended(manager.queryRunner);
      crashPoint(
        'audit.appended',
        entries.map((e) => e.tenantId),
      );
    } catch (error) {
      this.logger.error({ err: error, events: entries.map((e) => e.event), requestId: entries[0]?.requestId }, 'audit entry could not be written');
      throw auditUnavailable();
    }
  }

  /**
   * For a change made in one statement (a data-modifying CTE, committed on its own: one round trip).
   * `run(insert)` executes the statement, of which `insert(params)` — the INSERT appending `entries`,
   * each only if its `onlyIf` holds — is one part, so the change and its record commit together or not
   * at all. Fails closed like `append` (503), and wakes the sealer once the statement has committed.
   */
  async appendWith<T>(entries: StatementEntry[], run: (insert: (params: unknown[]) => string) => Promise<T>): Promise<T> {
    let answer: T;
    try {
      answer = await run((params) => pendingInsert(entries, params));
    } catch (error) {
      this.logger.error({ err: error, events: entries.map((e) => e.entry.event), requestId: entries[0]?.entry.requestId }, 'audit entry could not be written');
      throw auditUnavailable();
    }
    crashPoint(
      'audit.committed',
      entries.map((e) => e.entry.tenantId),
    );
    this.sealer.wake();
    return answer;
  }

  /** Records something that is not part of another change (its own transaction), and answers it chained. */
  async record(entry: AuditEntryInput): Promise<AuditEntry> {
    const pendingId = await this.repository
      .transaction((manager) => this.appendPending(manager, entry))
      .catch((error) => {
        throw error instanceof Problem ? error : auditUnavailable();
      });
    await this.sealed();
    const chained = await this.repository.sealedFrom(pendingId);
    if (!chained) throw auditUnavailable();
    return chained;
  }

  /** Seals every committed entry into the chain now (readers call this first). */
  async sealed(): Promise<void> {
    try {
      if (await this.repository.anyPending()) await this.sealer.flush();
    } catch (error) {
      this.logger.error({ err: error }, 'pending audit entries could not be sealed into the chain');
      throw auditUnavailable();
    }
  }

  private async appendPending(manager: EntityManager, entry: AuditEntryInput): Promise<string> {
    try {
      const id = await this.repository.appendPending(manager, entry);
      this.sealer.appended(manager.queryRunner);
      return id;
    } catch (error) {
      this.logger.error({ err: error, event: entry.event, requestId: entry.requestId }, 'audit entry could not be written');
      throw auditUnavailable();
    }
  }

  /** Chronological (seq order), keyset-paged; the cursor is the last seq seen. */
  async list(query: AuditFilter & PageQueryDto): Promise<Page<AuditEntryResponse>> {
    const afterSeq = Number(decodeCursor(query.cursor, 1)?.[0] ?? 0);
    await this.sealed();
    const rows = await this.repository.page(query, afterSeq, query.limit + 1);
    return toPage(rows, query.limit, (e) => [e.seq], toAuditEntryResponse);
  }

  /** Recomputes the chain between `from` and `to` (default: all of it) and names the first bad seq. */
  async verify(from = 1, to?: number): Promise<VerifyResult> {
    await this.sealed();
    const head = await this.repository.head();
    const last = Math.min(to ?? head.seq, head.seq);
    // A range starting past the head has no entry before it (and `from` may be beyond what a bigint holds).
    let prev = from <= 1 ? GENESIS_HASH_HEX : from - 1 > head.seq ? undefined : await this.repository.hashAt(from - 1);
    let expected = Math.max(from, 1);
    let checked = 0;
    const bad = (seq: number, reason: string): VerifyResult => ({ ok: false, checked, firstBadSeq: seq, reason, lastSeq: head.seq, lastHash: head.hash });
    if (!prev) return bad(from - 1, 'the entry before the range is missing');
    for await (const batch of this.repository.chainLinks(expected, last)) {
      for (const entry of batch) {
        if (entry.seq !== expected) return bad(expected, entry.seq > expected ? 'entry missing' : 'entry out of order');
        if (entry.prevHash !== prev) return bad(entry.seq, 'prevHash does not match the previous entry');
        if (chainHashOfParts(prev, entry.before, entry.data, entry.after) !== entry.hash) return bad(entry.seq, 'hash does not match the entry');
        prev = entry.hash;
        expected++;
        checked++;
      }
    }
    if (expected <= last) return bad(expected, 'entry missing');
    if (last === head.seq && head.seq > 0 && head.hash !== prev) return bad(head.seq, 'chain head does not match the last entry');
    return { ok: true, checked, lastSeq: head.seq, lastHash: head.hash };
  }

  /** Every entry matching the filter, in seq order, batch by batch. */
  async *entries(filter: AuditFilter): AsyncGenerator<AuditEntry[]> {
    await this.sealed();
    const head = await this.repository.head();
    yield* this.repository.range(1, head.seq, 2000, filter);
  }

  /** Every entry matching the filter as NDJSON text, in seq order, a batch at a time. */
  async *ndjson(filter: AuditFilter): AsyncGenerator<string> {
    await this.sealed();
    const head = await this.repository.head();
    for await (const batch of this.repository.ndjsonRange(1, head.seq, 5000, filter)) {
      let text = '';
      for (const entry of batch) text += entry.line;
      yield text;
    }
  }
}
