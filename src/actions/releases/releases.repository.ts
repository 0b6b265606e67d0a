import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { ActorJson } from '../action.entity';

export type ReleaseStatus = 'scheduled' | 'running' | 'released' | 'kept' | 'failed';

/** A row of `action_releases` (migrations/0017). */
export interface ReleaseRow {
  actionId: string;
  tenantId: string;
  releaseType: string;
  scheduledAt: Date;
  status: ReleaseStatus;
  releaseActionId: string | null;
  runStartedAt: Date | null;
  extensions: number;
  extendedBy: ActorJson | null;
  extendedAt: Date | null;
  extendReason: string | null;
  keptBy: ActorJson | null;
  keptAt: Date | null;
  keepReason: string | null;
  error: Record<string, unknown> | null;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `action_id AS "actionId", tenant_id AS "tenantId", release_type AS "releaseType", scheduled_at AS "scheduledAt", status,
  release_action_id AS "releaseActionId", run_started_at AS "runStartedAt", extensions, extended_by AS "extendedBy", extended_at AS "extendedAt",
  extend_reason AS "extendReason", kept_by AS "keptBy", kept_at AS "keptAt", keep_reason AS "keepReason", error, created_at AS "createdAt",
  updated_at AS "updatedAt"`;

/** UPDATE … RETURNING answers [rows, count] on PostgreSQL and the rows on PGlite. */
function returned<T>(result: unknown): T[] {
  const rows = result as unknown[];
  return (Array.isArray(rows[0]) ? rows[0] : rows) as T[];
}

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

/** What the containments board reads per row (see ContainmentsService). */
export interface ContainmentRow {
  actionId: string;
  tenantId: string;
  type: string;
  target: Record<string, unknown>;
  targetKey: string;
  reason: string;
  ticket: string | null;
  requestedBy: ActorJson;
  completedAt: Date;
  releasedBy: string | null;
  releasedAt: Date | null;
  releaseScheduledAt: Date | null;
  releaseStatus: ReleaseStatus | null;
  releaseActionId: string | null;
  checkedAt: Date | null;
  checkState: string | null;
  checkFound: string | null;
  checkDetail: Record<string, unknown> | null;
  state: 'active' | 'released' | 'drifted';
}

export interface ContainmentFilter {
  tenantIds: string[] | null;
  tenantId?: string;
  /** The containing types asked for, and the inverse of each (same order). */
  types: string[];
  inverses: string[];
  state?: 'active' | 'released' | 'drifted';
}

/** The durable schedule of time-boxed containment, and what the board and the drift check read. */
@Injectable()
export class ReleasesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async find(actionId: string, manager?: EntityManager, lock = false): Promise<ReleaseRow | undefined> {
    const [row]: ReleaseRow[] = await (manager ?? this.dataSource.manager).query(
      `SELECT ${COLUMNS} FROM action_releases WHERE action_id = $1${lock ? ' FOR UPDATE' : ''}`,
      [actionId],
    );
    return row;
  }

  /**
   * The run's guard: moves a due release from scheduled to running (or takes over a run that stopped
   * before it recorded its release action, `staleSeconds` after it started). Only one caller wins.
   */
  async claimRun(actionId: string, staleSeconds: number): Promise<ReleaseRow | undefined> {
    const result: unknown = await this.dataSource.query(
      `UPDATE action_releases SET status = 'running', run_started_at = now(), updated_at = now()
        WHERE action_id = $1
          AND ((status = 'scheduled' AND scheduled_at <= now())
            OR (status = 'running' AND release_action_id IS NULL AND run_started_at < now() - make_interval(secs => $2)))
        RETURNING ${COLUMNS}`,
      [actionId, staleSeconds],
    );
    return returned<ReleaseRow>(result)[0];
  }

  /** A run that could not start the inverse for a passing reason (a database error): due again at once. */
  async unclaim(actionId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE action_releases SET status = 'scheduled', run_started_at = NULL, updated_at = now() WHERE action_id = $1 AND status = 'running' AND release_action_id IS NULL`,
      [actionId],
    );
  }

  /** Records the inverse action of a running release (unless its final statement already did). */
  async link(actionId: string, releaseActionId: string): Promise<void> {
    await this.dataSource.query(`UPDATE action_releases SET release_action_id = $2, updated_at = now() WHERE action_id = $1 AND release_action_id IS NULL`, [
      actionId,
      releaseActionId,
    ]);
  }

  /** Ends a running release: released, or failed with the reason. Answers whether it was still running. */
  async finishRun(
    manager: EntityManager,
    actionId: string,
    status: 'released' | 'failed',
    releaseActionId: string | null,
    error: Record<string, unknown> | null,
  ) {
    const result: unknown = await manager.query(
      `UPDATE action_releases SET status = $2, release_action_id = COALESCE($3, release_action_id), error = $4::jsonb, updated_at = now()
        WHERE action_id = $1 AND status = 'running' RETURNING action_id`,
      [actionId, status, releaseActionId, json(error)],
    );
    return returned(result).length > 0;
  }

  async update(manager: EntityManager, actionId: string, changes: Record<string, unknown>): Promise<void> {
    const names = Object.keys(changes);
    const sets = names.map((name, i) => `${name} = $${i + 2}${['extended_by', 'kept_by', 'error'].includes(name) ? '::jsonb' : ''}`);
    await manager.query(`UPDATE action_releases SET ${sets.join(', ')}, updated_at = now() WHERE action_id = $1`, [
      actionId,
      ...names.map((n) => (['extended_by', 'kept_by', 'error'].includes(n) ? json(changes[n]) : changes[n])),
    ]);
  }

  /** Releases whose job may have been lost (due a while ago, still scheduled), and runs that stopped before recording their inverse. */
  async overdue(graceSeconds: number, staleSeconds: number, limit: number): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT action_id AS id FROM action_releases
        WHERE (status = 'scheduled' AND scheduled_at <= now() - make_interval(secs => $1))
           OR (status = 'running' AND release_action_id IS NULL AND run_started_at < now() - make_interval(secs => $2))
        ORDER BY scheduled_at LIMIT $3`,
      [graceSeconds, staleSeconds, limit],
    );
    return rows.map((r) => r.id);
  }

  /** Running releases whose inverse ended without running (rejected by an approver, cancelled, failed before its steps). */
  async endedUnrun(limit: number): Promise<Array<{ id: string; releaseActionId: string; status: string; error: Record<string, unknown> | null }>> {
    return this.dataSource.query(
      `SELECT r.action_id AS id, r.release_action_id AS "releaseActionId", a.status, a.error
         FROM action_releases r JOIN actions a ON a.id = r.release_action_id
        WHERE r.status = 'running' AND a.status IN ('failed', 'rejected', 'cancelled', 'succeeded', 'partially_succeeded')
        LIMIT $1`,
      [limit],
    );
  }

  /** The inverse a stopped run had recorded already (its admission got as far as recording the request). */
  async releaseActionOf(
    original: { id: string; tenantId: string; targetKey: string },
    releaseType: string,
  ): Promise<{ id: string; status: string } | undefined> {
    const [row]: Array<{ id: string; status: string }> = await this.dataSource.query(
      `SELECT id, status FROM actions WHERE tenant_id = $1 AND type = $2 AND target_key = $3 AND params->>'releaseOf' = $4 ORDER BY created_at DESC LIMIT 1`,
      [original.tenantId, releaseType, original.targetKey, original.id],
    );
    return row;
  }

  /**
   * The containments board: per (tenant, containing type, target) its latest successful containing
   * action, whether its inverse succeeded since (released), and what the last check read back
   * (drifted). Newest containment first; keyset on (completed_at, action id).
   */
  async containments(filter: ContainmentFilter, limit: number, after?: { completedAt: string; id: string }): Promise<ContainmentRow[]> {
    const params: unknown[] = [filter.types, filter.inverses];
    const p = (value: unknown) => `$${params.push(value)}`;
    const scope: string[] = [];
    if (filter.tenantIds) scope.push(`a.tenant_id = ANY(${p(filter.tenantIds)}::uuid[])`);
    if (filter.tenantId) scope.push(`a.tenant_id = ${p(filter.tenantId)}`);
    const outer: string[] = [];
    if (filter.state) outer.push(`state = ${p(filter.state)}`);
    if (after) outer.push(`("completedAt", "actionId") < (${p(after.completedAt)}::timestamptz, ${p(after.id)}::uuid)`);
    const sql = `
      WITH kinds AS (SELECT * FROM unnest($1::text[], $2::text[]) AS k(type, inverse)),
      latest AS (
        SELECT DISTINCT ON (a.tenant_id, a.type, a.target_key) a.*, k.inverse
          FROM actions a JOIN kinds k ON k.type = a.type
         WHERE a.status IN ('succeeded', 'partially_succeeded') AND NOT a.dry_run AND a.completed_at IS NOT NULL ${scope.map((s) => `AND ${s}`).join(' ')}
         ORDER BY a.tenant_id, a.type, a.target_key, a.completed_at DESC, a.id DESC
      ),
      board AS (
        SELECT l.id AS "actionId", l.tenant_id AS "tenantId", l.type, l.target, l.target_key AS "targetKey", l.reason, l.ticket,
               l.requested_by AS "requestedBy", l.completed_at AS "completedAt",
               rel.id AS "releasedBy", rel.completed_at AS "releasedAt",
               r.scheduled_at AS "releaseScheduledAt", r.status AS "releaseStatus", r.release_action_id AS "releaseActionId",
               c.checked_at AS "checkedAt", c.state AS "checkState", c.found AS "checkFound", c.detail AS "checkDetail",
               CASE WHEN rel.id IS NOT NULL THEN 'released' WHEN c.state = 'drifted' THEN 'drifted' ELSE 'active' END AS state
          FROM latest l
          LEFT JOIN LATERAL (
            SELECT i.id, i.completed_at FROM actions i
             WHERE i.tenant_id = l.tenant_id AND i.type = l.inverse AND i.target_key = l.target_key AND NOT i.dry_run
               AND i.status IN ('succeeded', 'partially_succeeded') AND i.completed_at >= l.completed_at
             ORDER BY i.completed_at DESC LIMIT 1
          ) rel ON true
          LEFT JOIN action_releases r ON r.action_id = l.id
          LEFT JOIN containment_checks c ON c.action_id = l.id
      )
      SELECT * FROM board ${outer.length ? `WHERE ${outer.join(' AND ')}` : ''}
      ORDER BY "completedAt" DESC, "actionId" DESC LIMIT ${p(limit + 1)}`;
    return this.dataSource.query(sql, params);
  }

  async recordCheck(
    actionId: string,
    tenantId: string,
    check: { state: 'holds' | 'drifted' | 'unknown' | 'failed'; found: string; detail?: Record<string, unknown> | null },
  ): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO containment_checks (action_id, tenant_id, checked_at, state, found, detail) VALUES ($1, $2, now(), $3, $4, $5::jsonb)
       ON CONFLICT (action_id) DO UPDATE SET checked_at = now(), state = EXCLUDED.state, found = EXCLUDED.found, detail = EXCLUDED.detail`,
      [actionId, tenantId, check.state, check.found, json(check.detail ?? null)],
    );
  }
}
