import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../access/access.decorator';
import { actorOf, type Principal } from '../../access/principal';
import { canAccessTenant } from '../../access/tenant-scope';
import { AuditLogService } from '../../audit-log/audit-log.service';
import type { AuditActor, AuditEntryInput } from '../../audit-log/audit-entry';
import { Problem, problems } from '../../common/problem';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { JobsService } from '../../jobs/jobs.service';
import { ActionAdmissionService } from '../action-admission.service';
import { ActionCatalogue } from '../action-catalogue';
import { ActionExecutor } from '../action-executor';
import type { ActionEntity } from '../action.entity';
import { ActionsRepository, type ActionFinal } from '../actions.repository';
import { asksForRelease, parseDuration, setReleaseMinimum, type ReleaseParams } from './release-window';
import { ReleaseRow, ReleasesRepository } from './releases.repository';

/** Runs one due release: `{ actionId }` of the containing action; singleton per action (pg-boss `stately`). */
export const RELEASE_QUEUE = 'actions.release';

/** Cordon's own principal: the automatic releases are requested by it, through the normal admission path. */
export const CORDON_PRINCIPAL: Principal = { type: 'system', id: 'cordon', name: 'Cordon (automatic release)', roles: ['responder'], tenantIds: null };

const OK: string[] = ['succeeded', 'partially_succeeded'];

/** What a release shows on its action (`GET /v1/actions/{id}`), and on the board. */
export function releaseView(row: ReleaseRow, params: Record<string, unknown>): Record<string, unknown> {
  const asked = params as ReleaseParams;
  return {
    type: row.releaseType,
    status: row.status,
    scheduledAt: row.scheduledAt.toISOString(),
    ...(asked.releaseAfter ? { releaseAfter: asked.releaseAfter } : {}),
    ...(asked.releaseAt ? { releaseAt: asked.releaseAt } : {}),
    ...(row.releaseActionId ? { actionId: row.releaseActionId } : {}),
    ...(row.extensions > 0
      ? { extensions: row.extensions, extendedBy: row.extendedBy, extendedAt: row.extendedAt?.toISOString(), extendReason: row.extendReason }
      : {}),
    ...(row.keptBy ? { keptBy: row.keptBy, keptAt: row.keptAt?.toISOString(), keepReason: row.keepReason } : {}),
    ...(row.error ? { error: row.error } : {}),
  };
}

/** Where a release window from now ends, or a 400 naming the field. */
function windowFromNow(body: ReleaseParams): { at: Date; words: string } {
  if (body.releaseAfter) return { at: new Date(Date.now() + parseDuration(body.releaseAfter)!), words: `releaseAfter ${body.releaseAfter}` };
  if (body.releaseAt) return { at: new Date(body.releaseAt), words: `releaseAt ${body.releaseAt}` };
  throw problems.validation([{ field: 'releaseAfter', message: 'releaseAfter or releaseAt is required' }]);
}

/**
 * Time-boxed containment (ARCHITECTURE.md §5.8). The statement that records a containing action's
 * success also writes its release (`action_releases`, scheduled); a pg-boss job keyed by the action
 * runs it when due — or the sweep, if that job was lost. Running it moves the row from scheduled to
 * running (only one process wins), then asks admission for the inverse action as Cordon's own
 * principal, linked by `releaseOf`; the inverse's final statement marks the release released or
 * failed. A refusal (protected target, disabled tenant, capability) ends it failed, audited.
 */
@Injectable()
export class ReleaseScheduler implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReleaseScheduler.name);
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jobs: JobsService,
    private readonly executor: ActionExecutor,
    private readonly admission: ActionAdmissionService,
    private readonly catalogue: ActionCatalogue,
    private readonly actions: ActionsRepository,
    private readonly releases: ReleasesRepository,
    private readonly auditLog: AuditLogService,
  ) {}

  onModuleInit(): void {
    setReleaseMinimum(this.config.releaseMinSeconds);
    this.jobs.register<{ actionId: string }>({
      name: RELEASE_QUEUE,
      options: { policy: 'stately', retryLimit: 5, retryDelay: 30 },
      concurrency: 4,
      pollingIntervalSeconds: 1,
      handle: async ({ actionId }) => this.run(actionId),
    });
    this.executor.extendFinish({
      also: (action, final) => this.alsoOnFinish(action, final),
      after: (action) => this.afterFinish(action),
    });
  }

  onApplicationBootstrap(): void {
    if (!this.config.workers) return;
    const everyMs = Math.max(1000, (this.config.actionLeaseSeconds * 1000) / 2);
    this.timer = setInterval(() => void this.sweep(), everyMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * Written by the action's final statement: a containing action that succeeded (even partly) and asked
   * for a release gets its scheduled row; an inverse Cordon ran for a release ends that release.
   */
  private alsoOnFinish(action: ActionEntity, final: ActionFinal) {
    if (action.dryRun) return undefined;
    const releaseOf = action.params?.releaseOf;
    if (typeof releaseOf === 'string') {
      const ok = OK.includes(final.status);
      return (p: (value: unknown) => string) => [
        `UPDATE action_releases SET status = ${p(ok ? 'released' : 'failed')}, release_action_id = $1, error = ${p(ok ? null : JSON.stringify(final.error))}::jsonb, updated_at = now()
          WHERE action_id = ${p(releaseOf)}::uuid AND status = 'running' AND EXISTS (SELECT 1 FROM finished) RETURNING action_id`,
      ];
    }
    const release = this.catalogue.get(action.type).release;
    if (!release || !asksForRelease(action.params) || !OK.includes(final.status)) return undefined;
    const params = action.params as ReleaseParams;
    return (p: (value: unknown) => string) => {
      const due =
        typeof params.releaseAfter === 'string'
          ? `now() + make_interval(secs => ${p((parseDuration(params.releaseAfter) ?? 0) / 1000)})`
          : `greatest(${p(params.releaseAt)}::timestamptz, now())`;
      return [
        `INSERT INTO action_releases (action_id, tenant_id, release_type, scheduled_at)
           SELECT id, ${p(action.tenantId)}::uuid, ${p(release.type)}, ${due} FROM finished
           ON CONFLICT (action_id) DO NOTHING RETURNING action_id`,
      ];
    };
  }

  /** After the final statement committed: the job that runs the release when it is due. */
  private async afterFinish(action: ActionEntity): Promise<void> {
    if (action.dryRun || !asksForRelease(action.params) || typeof action.params.releaseOf === 'string') return;
    const row = await this.releases.find(action.id);
    if (row?.status === 'scheduled') await this.sendJob(row);
  }

  private async sendJob(row: ReleaseRow): Promise<void> {
    await this.jobs.send(RELEASE_QUEUE, { actionId: row.actionId }, { startAfter: row.scheduledAt, singletonKey: row.actionId });
  }

  /** Runs the release of `actionId` if it is due and nobody else runs it; a job for a later time when it was extended. */
  async run(actionId: string): Promise<void> {
    const row = await this.releases.claimRun(actionId, this.config.actionLeaseSeconds * 2);
    if (!row) {
      const current = await this.releases.find(actionId);
      // Extended since this job was queued: the job for the new time (this one is active, so the key is free for it).
      if (current?.status === 'scheduled' && current.scheduledAt.getTime() > Date.now()) await this.sendJob(current);
      return;
    }
    const original = (await this.actions.findById(actionId))!;
    const earlier = await this.releases.releaseActionOf(original, row.releaseType);
    if (earlier) {
      // A run that stopped after its inverse was recorded: carry on with that one, never a second.
      await this.releases.link(actionId, earlier.id);
      return;
    }
    const target = original.target as { id?: string; display?: string };
    const asked = original.params as ReleaseParams;
    const window = asked.releaseAfter ? `releaseAfter ${asked.releaseAfter}` : `releaseAt ${asked.releaseAt}`;
    const reason = `automatic release of action ${actionId} (${window}${row.extensions > 0 ? `, extended ${row.extensions}×` : ''})`;
    const context: RequestContext = { principal: CORDON_PRINCIPAL, actor: actorOf(CORDON_PRINCIPAL), requestId: randomUUID() };
    try {
      const answer = await this.admission.request({
        type: row.releaseType,
        context,
        tenantId: original.tenantId,
        requested: target.id ?? original.targetKey,
        body: { reason, ...(original.ticket ? { ticket: original.ticket } : {}), releaseOf: actionId } as never,
      });
      await this.releases.link(actionId, answer.action.id);
      // Ended before any step ran (the target no longer exists): the release failed with that reason.
      if (answer.action.status === 'failed' || answer.action.status === 'rejected')
        await this.fail(original, row, context, { ...(answer.action.error ?? { code: 'release-failed' }), actionId: answer.action.id });
    } catch (error) {
      if (error instanceof Problem) {
        await this.fail(original, row, context, {
          code: error.slug,
          message: error.detail ?? error.title,
          ...(typeof error.extras?.actionId === 'string' ? { actionId: error.extras.actionId } : {}),
        });
        return;
      }
      await this.releases.unclaim(actionId);
      throw error;
    }
  }

  /** A release that could not run: failed, with the reason, and audited on the containing action. */
  private async fail(original: ActionEntity, row: ReleaseRow, context: RequestContext, error: Record<string, unknown>): Promise<void> {
    const releaseActionId = typeof error.actionId === 'string' ? error.actionId : null;
    await this.releases.transaction(async (manager) => {
      if (!(await this.releases.finishRun(manager, original.id, 'failed', releaseActionId, error))) return;
      await this.auditLog.append(
        manager,
        this.entry(original, 'action.release-failed', context.actor, context.requestId, { releaseType: row.releaseType, scheduledAt: row.scheduledAt, error }),
      );
    });
    this.logger.warn({ actionId: original.id, error }, 'an automatic release could not run');
  }

  private entry(action: ActionEntity, event: string, actor: AuditActor, requestId: string, data: Record<string, unknown>): AuditEntryInput {
    const display = (action.target as { display?: string }).display ?? action.targetKey;
    return { event, actor, tenantId: action.tenantId, actionId: action.id, subject: `${action.type}:${display}`, requestId, data };
  }

  /** The sweep of worker processes: releases due a while ago whose job was lost, runs that stopped, inverses that ended without running. */
  async sweep(): Promise<void> {
    try {
      for (const id of await this.releases.overdue(Math.max(5, this.config.actionLeaseSeconds), this.config.actionLeaseSeconds * 2, 50)) {
        await this.run(id).catch((error) => this.logger.warn({ err: error, actionId: id }, 'release run failed; it is tried again'));
      }
      for (const ended of await this.releases.endedUnrun(50)) {
        const original = await this.actions.findById(ended.id);
        const row = await this.releases.find(ended.id);
        if (!original || !row) continue;
        if (OK.includes(ended.status)) {
          await this.releases.transaction((manager) => this.releases.finishRun(manager, ended.id, 'released', ended.releaseActionId, null));
          continue;
        }
        const context = { principal: CORDON_PRINCIPAL, actor: actorOf(CORDON_PRINCIPAL), requestId: randomUUID() };
        await this.fail(original, row, context, { ...(ended.error ?? { code: `release-${ended.status}` }), actionId: ended.releaseActionId });
      }
    } catch (error) {
      this.logger.error({ err: error }, 'release sweep failed');
    }
  }

  // --- extend and keep (POST /v1/actions/{id}/extend, /keep) ---------------------------------------

  /** Moves a scheduled release later: `releaseAfter` counts from now. 409 when there is none or it ran. */
  async extend(actionId: string, body: ReleaseParams & { reason: string }, context: RequestContext): Promise<void> {
    const window = windowFromNow(body);
    await this.decide(actionId, context, async (manager, action, row) => {
      if (window.at.getTime() <= row.scheduledAt.getTime())
        throw new Problem(
          409,
          'release-not-later',
          'Release not extended',
          `The release is due ${row.scheduledAt.toISOString()}; ${window.words} would not move it later. Use keep to cancel it.`,
          { scheduledAt: row.scheduledAt.toISOString() },
        );
      await this.releases.update(manager, actionId, {
        scheduled_at: window.at,
        extensions: row.extensions + 1,
        extended_by: context.actor,
        extended_at: new Date(),
        extend_reason: body.reason,
      });
      await this.auditLog.append(
        manager,
        this.entry(action, 'action.release-extended', context.actor, context.requestId, {
          from: row.scheduledAt.toISOString(),
          to: window.at.toISOString(),
          ...(body.releaseAfter ? { releaseAfter: body.releaseAfter } : { releaseAt: body.releaseAt }),
          reason: body.reason,
        }),
      );
    });
  }

  /** Cancels the automatic release: the containment stays until someone releases it. */
  async keep(actionId: string, reason: string, context: RequestContext): Promise<void> {
    await this.decide(actionId, context, async (manager, action, row) => {
      await this.releases.update(manager, actionId, { status: 'kept', kept_by: context.actor, kept_at: new Date(), keep_reason: reason });
      await this.auditLog.append(
        manager,
        this.entry(action, 'action.release-kept', context.actor, context.requestId, { scheduledAt: row.scheduledAt.toISOString(), reason }),
      );
    });
  }

  private async decide(
    actionId: string,
    context: RequestContext,
    change: (manager: Parameters<Parameters<ReleasesRepository['transaction']>[0]>[0], action: ActionEntity, row: ReleaseRow) => Promise<void>,
  ): Promise<void> {
    const action = await this.actions.findById(actionId);
    if (!action || !canAccessTenant(context.principal, action.tenantId)) throw problems.notFound(`Action ${actionId} does not exist.`);
    await this.releases.transaction(async (manager) => {
      const row = await this.releases.find(actionId, manager, true);
      if (!row || row.status !== 'scheduled') {
        throw new Problem(
          409,
          'release-not-scheduled',
          'No scheduled release',
          row
            ? `The release of action ${actionId} is ${row.status}${row.releaseActionId ? ` (action ${row.releaseActionId})` : ''}; only a scheduled release can be extended or kept.`
            : `Action ${actionId} has no automatic release${asksForRelease(action.params) ? ' (yet: it has not succeeded)' : ''}.`,
          { releaseStatus: row?.status ?? null },
        );
      }
      await change(manager, action, row);
    });
  }
}
