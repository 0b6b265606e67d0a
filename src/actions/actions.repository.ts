import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ActionEntity, ActionStatus, ActionStepEntity } from './action.entity';

/** What a finished step records. */
export interface StepFinish {
  position: number;
  status: 'succeeded' | 'skipped' | 'failed';
  microsoftRequestId: string;
  detail: Record<string, unknown> | null;
  error: Record<string, unknown> | null;
}

/** A step about to send its Microsoft call. */
export interface StepStart {
  position: number;
  attempts: number;
  clientRequestId: string;
}

/** The final state of an action, as the executor worked it out from its steps. */
export interface ActionFinal {
  status: ActionStatus;
  result: Record<string, unknown>;
  error: Record<string, unknown> | null;
}

/**
 * What a write-ahead statement did, and its time: every `now()` it wrote (a step's start or end, the
 * action's update or completion) is this value, so the executor's view matches the rows exactly.
 */
export type Recorded<K extends string> = { [key in K]: boolean } & { at: Date };

/** Builds the INSERT of a statement's audit entries (AuditLogService.appendWith), pushing its parameters. */
export type AuditInsert = (params: unknown[]) => string;

/**
 * More data-modifying statements the final statement of an action runs (their bodies, as CTEs that may
 * read `finished`): what must be recorded exactly when the action ends, such as a scheduled release.
 */
export type FinishAlso = (p: (value: unknown) => string) => string[];

/** Conditions for audit entries inside the statements below: the step was started; the action was finished; admitted. */
export const STEP_STARTED = 'EXISTS (SELECT 1 FROM started)';
export const ACTION_FINISHED = 'EXISTS (SELECT 1 FROM finished)';
export const ACCEPTED = 'EXISTS (SELECT 1 FROM accepted)';
export const ABANDONED_FAILED = 'EXISTS (SELECT 1 FROM failed)';

/** The request as admission writes it ahead. */
export type NewAction = Pick<
  ActionEntity,
  'id' | 'tenantId' | 'type' | 'target' | 'targetKey' | 'status' | 'reason' | 'ticket' | 'dryRun' | 'params' | 'requestedBy' | 'requestedById'
>;

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
const finishSql = (p: (value: unknown) => string, finished: StepFinish) =>
  `UPDATE action_steps SET status = ${p(finished.status)}, finished_at = now(), microsoft_request_id = ${p(finished.microsoftRequestId)},
          detail = ${p(json(finished.detail))}::jsonb, error = ${p(json(finished.error))}::jsonb, next_poll_at = NULL
    WHERE action_id = $1 AND position = ${p(finished.position)} RETURNING position`;

/** A parameter list for hand-written statements: `p(value)` pushes the value and answers its placeholder. */
function parameters(...first: unknown[]): { params: unknown[]; p: (value: unknown) => string } {
  const params = [...first];
  return { params, p: (value) => `$${params.push(value)}` };
}

export interface ActionFilter {
  tenantIds?: string[] | null;
  tenantId?: string;
  type?: string;
  status?: string;
  target?: string;
  requestedBy?: string;
  since?: Date;
  until?: Date;
}

@Injectable()
export class ActionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async insert(manager: EntityManager, action: Partial<ActionEntity>): Promise<ActionEntity> {
    const repository = manager.getRepository(ActionEntity);
    return repository.save(repository.create(action));
  }

  /**
   * Writes the request ahead, in one statement: the action row, held under the admitting process's
   * `lease` while its admission runs, and, in the same statement, its audit entry (`insert`), so that
   * neither exists without the other; the request's Idempotency-Key (`keyedBy`) records the action, so a
   * retry after a crash carries on with it. Answers the action as stored.
   */
  async insertRequest(
    action: NewAction,
    insert: AuditInsert,
    lease: { owner: string; seconds: number },
    keyedBy?: { principalId: string; key: string },
  ): Promise<ActionEntity> {
    const { params, p } = parameters();
    const values = [
      action.id,
      action.tenantId,
      action.type,
      json(action.target),
      action.targetKey,
      action.status,
      action.reason,
      action.ticket,
      action.dryRun,
      json(action.params),
      json(action.requestedBy),
      action.requestedById,
    ].map(p);
    const keyed = keyedBy
      ? `, keyed AS (UPDATE idempotency_keys SET action_id = ${values[0]}::uuid
                      WHERE principal_id = ${p(keyedBy.principalId)} AND key = ${p(keyedBy.key)} AND state = 'in_progress')`
      : '';
    const [row]: Array<{ created_at: Date; updated_at: Date }> = await this.dataSource.query(
      `WITH inserted AS (
         INSERT INTO actions (id, tenant_id, type, target, target_key, status, reason, ticket, dry_run, params, requested_by, requested_by_id, lease_owner, lease_until)
         VALUES (${values[0]}, ${values[1]}, ${values[2]}, ${values[3]}::jsonb, ${values[4]}, ${values[5]}, ${values[6]}, ${values[7]}, ${values[8]}, ${values[9]}::jsonb, ${values[10]}::jsonb, ${values[11]},
                 ${p(lease.owner)}, now() + make_interval(secs => ${p(lease.seconds)}))
         RETURNING created_at, updated_at),
       audit AS (${insert(params)})${keyed}
       SELECT created_at, updated_at FROM inserted`,
      params,
    );
    return Object.assign(new ActionEntity(), action, {
      approvedBy: null,
      decidedBy: null,
      decisionReason: null,
      result: null,
      error: null,
      leaseOwner: lease.owner,
      leaseUntil: null,
      completedAt: null,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    });
  }

  /**
   * A step boundary in one statement (one round trip, atomic): the finished step's outcome, written in
   * any case (it happened at Microsoft), and the next step's start only if the action still runs under
   * `owner` — not cancelled (the row is read under a share lock, so a cancel that committed first is
   * seen), not taken over after a lapsed lease — with their audit entries (`insert`, the start's under
   * STEP_STARTED). Answers whether the next step was started, and when.
   */
  async recordBoundary(actionId: string, owner: string, finished: StepFinish | null, start: StepStart, insert: AuditInsert): Promise<Recorded<'started'>> {
    const { params, p } = parameters(actionId, owner);
    const parts = [`ours AS (SELECT id FROM actions WHERE id = $1 AND status = 'running' AND lease_owner = $2 FOR SHARE)`];
    if (finished) parts.push(`done AS (${finishSql(p, finished)})`);
    parts.push(
      `started AS (UPDATE action_steps SET status = 'running', attempts = ${p(start.attempts)}, started_at = now(), microsoft_request_id = ${p(start.clientRequestId)}
         WHERE action_id = $1 AND position = ${p(start.position)} AND EXISTS (SELECT 1 FROM ours) RETURNING position)`,
    );
    parts.push(`audit AS (${insert(params)})`);
    const [row]: Array<Recorded<'started'>> = await this.dataSource.query(
      `WITH ${parts.join(',\n')} SELECT EXISTS (SELECT 1 FROM started) AS started, now() AS at`,
      params,
    );
    return row;
  }

  /**
   * The last step's outcome and the action's final state, in one statement: the outcome in any case,
   * the final state only if the action still runs under `owner` (row locked), with their audit entries
   * (`insert`, the final one under ACTION_FINISHED). Answers whether the action was finished, and when.
   */
  async recordFinish(
    actionId: string,
    owner: string,
    finished: StepFinish | null,
    final: ActionFinal,
    insert: AuditInsert,
    also?: FinishAlso,
  ): Promise<Recorded<'finished'>> {
    const { params, p } = parameters(actionId, owner);
    const parts = [`ours AS (SELECT id FROM actions WHERE id = $1 AND status = 'running' AND lease_owner = $2 FOR NO KEY UPDATE)`];
    if (finished) parts.push(`done AS (${finishSql(p, finished)})`);
    parts.push(
      `finished AS (UPDATE actions SET status = ${p(final.status)}, result = ${p(json(final.result))}::jsonb, error = ${p(json(final.error))}::jsonb,
                     completed_at = now(), lease_owner = NULL, lease_until = NULL, updated_at = now()
         WHERE id IN (SELECT id FROM ours) RETURNING id)`,
      `audit AS (${insert(params)})`,
      ...(also?.(p) ?? []).map((body, i) => `also_${i} AS (${body})`),
    );
    const [row]: Array<Recorded<'finished'>> = await this.dataSource.query(
      `WITH ${parts.join(',\n')} SELECT EXISTS (SELECT 1 FROM finished) AS finished, now() AS at`,
      params,
    );
    return row;
  }

  /**
   * Admits the action in one statement: its steps, its status and resolved target, and (with `insert`)
   * its audit entries (under ACCEPTED) — only if it is still queued as its request left it (a cancel
   * may have landed while its target was resolved). Runs on its own, or inside the caller's transaction
   * when `manager` is given. Answers whether it was admitted.
   */
  async accept(
    manager: EntityManager | undefined,
    actionId: string,
    steps: string[],
    changes: Pick<ActionEntity, 'status' | 'target' | 'targetKey'>,
    insert?: AuditInsert,
  ): Promise<boolean> {
    const { params, p } = parameters(actionId);
    const parts = [
      `accepted AS (UPDATE actions SET status = ${p(changes.status)}, target = ${p(json(changes.target))}::jsonb, target_key = ${p(changes.targetKey)},
                lease_owner = NULL, lease_until = NULL, updated_at = now()
         WHERE id = $1 AND status = 'queued' RETURNING id)`,
      `steps AS (INSERT INTO action_steps (action_id, position, name, status, attempts)
         SELECT $1, ord - 1, name, 'pending', 0 FROM unnest(${p(steps)}::text[]) WITH ORDINALITY AS s(name, ord) WHERE EXISTS (SELECT 1 FROM accepted))`,
    ];
    if (insert) parts.push(`audit AS (${insert(params)})`);
    const [row]: Array<{ accepted: boolean }> = await (manager ?? this.dataSource.manager).query(
      `WITH ${parts.join(',\n')} SELECT EXISTS (SELECT 1 FROM accepted) AS accepted`,
      params,
    );
    return row.accepted;
  }

  findById(id: string, manager?: EntityManager): Promise<ActionEntity | null> {
    return (manager ?? this.dataSource.manager).getRepository(ActionEntity).findOne({ where: { id } });
  }

  /** Locks the action row for the rest of the transaction (approve, reject, cancel, step outcomes). */
  lock(manager: EntityManager, id: string): Promise<ActionEntity | null> {
    return manager.getRepository(ActionEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  steps(actionId: string, manager?: EntityManager): Promise<ActionStepEntity[]> {
    return (manager ?? this.dataSource.manager).getRepository(ActionStepEntity).find({ where: { actionId }, order: { position: 'ASC' } });
  }

  async stepsOf(actionIds: string[]): Promise<Map<string, ActionStepEntity[]>> {
    const map = new Map<string, ActionStepEntity[]>(actionIds.map((id) => [id, []]));
    if (actionIds.length === 0) return map;
    const rows = await this.dataSource
      .getRepository(ActionStepEntity)
      .createQueryBuilder('s')
      .where('s.action_id IN (:...ids)', { ids: actionIds })
      .orderBy('s.position')
      .getMany();
    for (const row of rows) map.get(row.actionId)!.push(row);
    return map;
  }

  async insertSteps(manager: EntityManager, actionId: string, names: string[]): Promise<void> {
    if (names.length === 0) return;
    await manager
      .getRepository(ActionStepEntity)
      .insert(names.map((name, position) => ({ actionId, position, name, status: 'pending' as const, attempts: 0 })));
  }

  async update(manager: EntityManager, id: string, changes: Partial<ActionEntity>): Promise<void> {
    await manager.getRepository(ActionEntity).update({ id }, { ...changes, updatedAt: () => 'now()' } as never);
  }

  async updateStep(manager: EntityManager, actionId: string, position: number, changes: Partial<ActionStepEntity>): Promise<void> {
    await manager.getRepository(ActionStepEntity).update({ actionId, position }, changes as never);
  }

  /**
   * Takes the action for execution: a queued action, or a running one whose lease has expired (its
   * process died) or was let go while a long-running step waits. Only one process wins; it holds the
   * lease while it works. A step waiting for a later time (`next_poll_at`) is woken only by the job
   * scheduled for that time (`dueAt`), so a stale or duplicate wake-up never runs it early or twice.
   */
  async claim(id: string, owner: string, leaseSeconds: number, dueAt?: Date): Promise<boolean> {
    const rows = await this.dataSource.query(
      `UPDATE actions SET status = 'running', lease_owner = $2, lease_until = now() + make_interval(secs => $3), updated_at = now()
        WHERE id = $1 AND (status = 'queued' OR (status = 'running' AND (lease_until IS NULL OR lease_until < now()) )) AND target ? 'id'
          AND CASE WHEN $4::timestamptz IS NULL
                   THEN NOT EXISTS (SELECT 1 FROM action_steps s WHERE s.action_id = $1 AND s.next_poll_at > now())
                   ELSE EXISTS (SELECT 1 FROM action_steps s WHERE s.action_id = $1 AND s.next_poll_at = $4::timestamptz) END
        RETURNING id`,
      [id, owner, leaseSeconds, dueAt ?? null],
    );
    return (Array.isArray(rows[0]) ? rows[0] : rows).length > 0;
  }

  /**
   * The hot path's admission, in one statement: the steps with the first one started, the action
   * `running` under `lease.owner` with its resolved target, and the audit entries (`insert`, under
   * ACCEPTED) — only if the action is still queued as its request left it (not cancelled meanwhile).
   * Answers whether it was admitted, and when.
   */
  async acceptAndStart(
    actionId: string,
    steps: string[],
    changes: Pick<ActionEntity, 'target' | 'targetKey'>,
    lease: { owner: string; seconds: number },
    firstRequestId: string,
    insert: AuditInsert,
  ): Promise<Recorded<'accepted'>> {
    const { params, p } = parameters(actionId);
    const [row]: Array<Recorded<'accepted'>> = await this.dataSource.query(
      `WITH accepted AS (
         UPDATE actions SET status = 'running', target = ${p(json(changes.target))}::jsonb, target_key = ${p(changes.targetKey)},
                lease_owner = ${p(lease.owner)}, lease_until = now() + make_interval(secs => ${p(lease.seconds)}), updated_at = now()
          WHERE id = $1 AND status = 'queued' RETURNING id),
       steps AS (
         INSERT INTO action_steps (action_id, position, name, status, attempts, started_at, microsoft_request_id)
         SELECT $1, ord - 1, name, CASE WHEN ord = 1 THEN 'running' ELSE 'pending' END, CASE WHEN ord = 1 THEN 1 ELSE 0 END,
                CASE WHEN ord = 1 THEN now() END, CASE WHEN ord = 1 THEN ${p(firstRequestId)} END
           FROM unnest(${p(steps)}::text[]) WITH ORDINALITY AS s(name, ord)
          WHERE EXISTS (SELECT 1 FROM accepted)),
       audit AS (${insert(params)})
       SELECT EXISTS (SELECT 1 FROM accepted) AS accepted, now() AS at`,
      params,
    );
    return row;
  }

  async renewLease(id: string, owner: string, leaseSeconds: number): Promise<boolean> {
    const rows = await this.dataSource.query(
      `UPDATE actions SET lease_until = now() + make_interval(secs => $3) WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING id`,
      [id, owner, leaseSeconds],
    );
    return (Array.isArray(rows[0]) ? rows[0] : rows).length > 0;
  }

  /** Keeps the admission of a recorded request held by its process (its heartbeat while it resolves the target). */
  async renewAdmission(id: string, owner: string, leaseSeconds: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE actions SET lease_until = now() + make_interval(secs => $3) WHERE id = $1 AND lease_owner = $2 AND status = 'queued' AND NOT (target ? 'id')`,
      [id, owner, leaseSeconds],
    );
  }

  /**
   * A retry (same Idempotency-Key) takes over the admission of the request a dead process had recorded
   * but not admitted, once that process's lease has lapsed. Answers whether it did.
   */
  async takeOverAdmission(id: string, owner: string, leaseSeconds: number): Promise<boolean> {
    const rows = await this.dataSource.query(
      `UPDATE actions SET lease_owner = $2, lease_until = now() + make_interval(secs => $3)
        WHERE id = $1 AND status = 'queued' AND NOT (target ? 'id') AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $2) RETURNING id`,
      [id, owner, leaseSeconds],
    );
    return (Array.isArray(rows[0]) ? rows[0] : rows).length > 0;
  }

  /**
   * Requests recorded but never admitted whose admitting process stopped renewing its lease more than
   * `graceSeconds` ago (it died, and no retry carried on with them). Rows from before admission leases
   * (no lease) count after ten minutes.
   */
  async findAbandonedRequests(graceSeconds: number, limit: number): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT id FROM actions WHERE status = 'queued' AND NOT (target ? 'id')
          AND (lease_until < now() - make_interval(secs => $1) OR (lease_until IS NULL AND updated_at < now() - interval '10 minutes'))
        ORDER BY created_at LIMIT $2`,
      [graceSeconds, limit],
    );
    return rows.map((r) => r.id);
  }

  /** Ends an abandoned request (see findAbandonedRequests) as failed, with its audit entry, if it still is one. */
  async failAbandonedRequest(id: string, graceSeconds: number, error: Record<string, unknown>, insert: AuditInsert): Promise<boolean> {
    const { params, p } = parameters(id);
    const [row]: Array<{ failed: boolean }> = await this.dataSource.query(
      `WITH failed AS (
         UPDATE actions SET status = 'failed', error = ${p(json(error))}::jsonb, completed_at = now(), lease_owner = NULL, lease_until = NULL, updated_at = now()
          WHERE id = $1 AND status = 'queued' AND NOT (target ? 'id')
            AND (lease_until < now() - make_interval(secs => ${p(graceSeconds)}) OR (lease_until IS NULL AND updated_at < now() - interval '10 minutes'))
          RETURNING id),
       audit AS (${insert(params)})
       SELECT EXISTS (SELECT 1 FROM failed) AS failed`,
      params,
    );
    return row.failed;
  }

  /**
   * Unfinished work nobody holds: queued for a while, or running with an expired lease — but not a step
   * waiting for its due time, unless its wake-up job is overdue by a lease period (lost).
   */
  async findOrphans(queuedForSeconds: number, limit: number): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT id FROM actions
        WHERE ((status = 'queued' AND updated_at < now() - make_interval(secs => $1))
           OR (status = 'running' AND (lease_until < now() OR lease_until IS NULL)))
          -- admitted actions only (steps exist); a request still being admitted is not orphaned
          AND EXISTS (SELECT 1 FROM action_steps s WHERE s.action_id = actions.id)
          AND NOT EXISTS (SELECT 1 FROM action_steps s WHERE s.action_id = actions.id AND s.next_poll_at > now() - make_interval(secs => $1))
        ORDER BY created_at LIMIT $2`,
      [queuedForSeconds, limit],
    );
    return rows.map((r) => r.id);
  }

  /** Serializes admission of one action type on one tenant, so hourly caps hold under concurrency. */
  async lockAdmission(manager: EntityManager, tenantId: string, type: string): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`actions:${tenantId}:${type}`]);
  }

  /** Actions of a type on a tenant counted against its hourly cap (refused and dry-run ones do not count). */
  async recentForCap(manager: EntityManager, tenantId: string, type: string, excludeId: string): Promise<Date[]> {
    const rows: Array<{ created_at: Date }> = await manager.query(
      `SELECT created_at FROM actions
        WHERE tenant_id = $1 AND type = $2 AND created_at > now() - interval '1 hour' AND id <> $3
          AND NOT dry_run AND status NOT IN ('rejected', 'cancelled')
        ORDER BY created_at`,
      [tenantId, type, excludeId],
    );
    return rows.map((r) => r.created_at);
  }

  async listPage(filter: ActionFilter, limit: number, after?: { createdAt: string; id: string }): Promise<ActionEntity[]> {
    const q = this.dataSource
      .getRepository(ActionEntity)
      .createQueryBuilder('a')
      .orderBy('a.created_at', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .limit(limit + 1);
    if (filter.tenantIds)
      q.andWhere('a.tenant_id IN (:...scope)', { scope: filter.tenantIds.length ? filter.tenantIds : ['00000000-0000-0000-0000-000000000000'] });
    if (filter.tenantId) q.andWhere('a.tenant_id = :tenantId', { tenantId: filter.tenantId });
    if (filter.type) q.andWhere('a.type = :type', { type: filter.type });
    if (filter.status) q.andWhere('a.status = :status', { status: filter.status });
    if (filter.target)
      q.andWhere("(a.target_key = :target OR lower(a.target->>'requested') = :target OR lower(a.target->>'display') = :target)", {
        target: filter.target.toLowerCase(),
      });
    if (filter.requestedBy) q.andWhere('a.requested_by_id = :requestedBy', { requestedBy: filter.requestedBy });
    if (filter.since) q.andWhere('a.created_at >= :since', { since: filter.since });
    if (filter.until) q.andWhere('a.created_at < :until', { until: filter.until });
    if (after) q.andWhere('(a.created_at < :at OR (a.created_at = :at AND a.id < :id))', { at: after.createdAt, id: after.id });
    return q.getMany();
  }

  /** Whether the action is running under `owner`'s lease: two columns, not the whole action. */
  async isRunningFor(manager: EntityManager, actionId: string, owner: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(`SELECT 1 FROM actions WHERE id = $1 AND status = 'running' AND lease_owner = $2`, [actionId, owner]);
    return rows.length > 0;
  }
}

export type { ActionStatus };
