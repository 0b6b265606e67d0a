import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { countRows } from '../../database/written-rows';
import { PurviewSearchEntity } from './purview-search.entity';

/** A collection gap as a backfill needs it: its stream, its window, or the lost unit's creation time. */
export interface GapToBackfill {
  id: string;
  tenantId: string;
  source: string;
  stream: string;
  reason: string;
  windowStart: Date | null;
  windowEnd: Date | null;
  /** For a lost content unit (no window): when Microsoft made it available, from the collection ledger. */
  contentCreated: Date | null;
  detectedAt: Date;
}

/** SQL of Purview audit searches. */
@Injectable()
export class PurviewSearchRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async insert(manager: EntityManager, search: Partial<PurviewSearchEntity>): Promise<PurviewSearchEntity> {
    const repository = manager.getRepository(PurviewSearchEntity);
    return repository.save(repository.create(search));
  }

  find(id: string, manager?: EntityManager): Promise<PurviewSearchEntity | null> {
    return (manager ?? this.dataSource.manager)
      .getRepository(PurviewSearchEntity)
      .findOne({ where: { id }, ...(manager ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
  }

  /** With its gap, for the API. */
  findOfTenant(tenantId: string, id: string): Promise<PurviewSearchEntity | null> {
    return this.dataSource.getRepository(PurviewSearchEntity).findOne({ where: { id, tenantId }, relations: { gap: true } });
  }

  async update(id: string, changes: Partial<PurviewSearchEntity>, manager?: EntityManager): Promise<void> {
    await (manager ?? this.dataSource.manager).getRepository(PurviewSearchEntity).update({ id }, { ...changes, updatedAt: () => 'now()' });
  }

  /** Counts a page of records stored, and where reading resumes, in the transaction that stored them. */
  async recordPage(
    manager: EntityManager,
    id: string,
    page: { fetched: number; inserted: number; duplicates: number; nextLink: string | null },
  ): Promise<void> {
    await manager.query(
      `UPDATE purview_searches
          SET fetched = fetched + $2, inserted = inserted + $3, duplicates = duplicates + $4, next_link = $5,
              status = CASE WHEN $5::text IS NULL THEN 'succeeded' ELSE status END,
              completed_at = CASE WHEN $5::text IS NULL THEN now() ELSE completed_at END,
              updated_at = now()
        WHERE id = $1`,
      [id, page.fetched, page.inserted, page.duplicates, page.nextLink],
    );
  }

  /** Takes the search's lease unless a live worker holds it; answers whether it did. */
  async claimLease(id: string, owner: string, seconds: number): Promise<boolean> {
    const result: unknown = await this.dataSource.query(
      `UPDATE purview_searches SET lease_owner = $2, lease_until = now() + make_interval(secs => $3)
        WHERE id = $1 AND (lease_until IS NULL OR lease_until < now()) RETURNING 1`,
      [id, owner, seconds],
    );
    return countRows(result) === 1;
  }

  async renewLease(id: string, owner: string, seconds: number): Promise<void> {
    await this.dataSource.query(`UPDATE purview_searches SET lease_until = now() + make_interval(secs => $3) WHERE id = $1 AND lease_owner = $2`, [
      id,
      owner,
      seconds,
    ]);
  }

  async releaseLease(id: string, owner: string): Promise<void> {
    await this.dataSource.query(`UPDATE purview_searches SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2`, [id, owner]);
  }

  /** Searches not finished whose last step is older than `seconds` (their job chain may be lost). */
  async openSince(seconds: number): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT id FROM purview_searches WHERE status NOT IN ('succeeded', 'failed') AND updated_at < now() - make_interval(secs => $1) ORDER BY updated_at LIMIT 500`,
      [seconds],
    );
    return rows.map((r) => r.id);
  }

  /** A tenant's searches, newest first, keyset on (created_at, id). */
  page(tenantId: string, limit: number, before?: { createdAt: string; id: string }): Promise<PurviewSearchEntity[]> {
    const q = this.dataSource
      .getRepository(PurviewSearchEntity)
      .createQueryBuilder('s')
      .leftJoinAndSelect('s.gap', 'gap')
      .where('s.tenant_id = :tenantId', { tenantId })
      .orderBy('s.created_at', 'DESC')
      .addOrderBy('s.id', 'DESC')
      .limit(limit);
    if (before) q.andWhere('(s.created_at, s.id) < (CAST(:at AS timestamptz), CAST(:id AS uuid))', { at: before.createdAt, id: before.id });
    return q.getMany();
  }

  /** Backfills of a gap that did not fail (at most one, by the unique index). */
  activeBackfillOf(gapId: string): Promise<PurviewSearchEntity | null> {
    return this.dataSource
      .getRepository(PurviewSearchEntity)
      .createQueryBuilder('s')
      .where('s.gap_id = :gapId', { gapId })
      .andWhere("s.status <> 'failed'")
      .getOne();
  }

  /**
   * A gap the collection engine reported (read only: the engine owns `collection_gaps`), with the
   * lost unit's creation time from its ledger when the gap has no window.
   */
  async findGap(tenantId: string, gapId: string): Promise<GapToBackfill | null> {
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT g.id, g.tenant_id, g.source, g.stream, g.reason, g.window_start, g.window_end, g.detected_at, l.content_created
         FROM collection_gaps g
         LEFT JOIN collection_ledger l ON l.tenant_id = g.tenant_id AND l.source = g.source AND l.content_id = g.content_id
        WHERE g.tenant_id = $1 AND g.id = $2`,
      [tenantId, gapId],
    );
    const r = rows[0];
    if (!r) return null;
    const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));
    return {
      id: String(r.id),
      tenantId: String(r.tenant_id),
      source: String(r.source),
      stream: String(r.stream),
      reason: String(r.reason),
      windowStart: date(r.window_start),
      windowEnd: date(r.window_end),
      contentCreated: date(r.content_created),
      detectedAt: date(r.detected_at)!,
    };
  }
}
