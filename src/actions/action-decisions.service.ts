import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { AuditLogService } from '../audit-log/audit-log.service';
import type { RequestContext } from '../access/access.decorator';
import { assertTenantAccess } from '../access/tenant-scope';
import { Problem, problems } from '../common/problem';
import { JobsService } from '../jobs/jobs.service';
import { ActionAdmissionService } from './action-admission.service';
import { actionAudit } from './action-audit';
import { ActionCatalogue } from './action-catalogue';
import { ActionExecutor, POLL_QUEUE } from './action-executor';
import { ActionTarget, StepContext, StepDefinition, StepError } from './action-handler';
import { ActionQueriesService } from './action-queries.service';
import type { ActionAnswer } from './action-view';
import { ActionEntity, ActionStepEntity, FINAL_STATUSES } from './action.entity';
import { ActionsRepository } from './actions.repository';
import type { ActionResponse } from './dto/action.dto';

/**
 * Decisions on an action after its request (ARCHITECTURE.md §5.2, §5.6): a different responder approves
 * or rejects one that awaits approval; a responder cancels one that has not finished.
 */
@Injectable()
export class ActionDecisionsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: ActionsRepository,
    private readonly catalogue: ActionCatalogue,
    private readonly executor: ActionExecutor,
    private readonly admission: ActionAdmissionService,
    private readonly queries: ActionQueriesService,
    private readonly auditLog: AuditLogService,
    private readonly jobs: JobsService,
  ) {}

  /** Approved, it runs now, like an action admitted without approval. */
  async approve(actionId: string, context: RequestContext, waitSeconds?: number): Promise<ActionAnswer> {
    await this.decide(actionId, context, 'approve');
    return this.admission.start(actionId, waitSeconds);
  }

  async reject(actionId: string, context: RequestContext, reason?: string): Promise<ActionResponse> {
    await this.decide(actionId, context, 'reject', reason);
    return this.queries.get(actionId, context);
  }

  /**
   * Cancels an action that has not finished. One whose long-running step has work pending at Microsoft
   * (a Defender machine action) is cancelled there first: the request is audited before the call, and
   * the action is `cancelled` only once Microsoft agreed; when Microsoft cannot cancel it any more (it
   * finished meanwhile), the answer is 409 `action-not-cancellable` and tracking carries on.
   */
  async cancel(actionId: string, context: RequestContext, reason?: string): Promise<ActionResponse> {
    const remote = await this.repository.transaction(async (manager) => {
      const action = await this.lockVisible(manager, actionId, context);
      if (FINAL_STATUSES.includes(action.status))
        throw new Problem(409, 'action-finished', 'Action already finished', `Action ${actionId} is ${action.status}; there is nothing to cancel.`);
      const tracked =
        action.status === 'running' ? (await this.repository.steps(actionId, manager)).find((s) => s.status === 'running' && s.state !== null) : undefined;
      const definition = tracked ? this.catalogue.get(action.type).steps(action.params)[tracked.position] : undefined;
      if (tracked && definition?.cancel) {
        // Hold the action while Microsoft is asked, so a wake-up does not poll it meanwhile.
        await this.repository.update(manager, actionId, {
          leaseOwner: `cancel:${context.requestId}`,
          leaseUntil: new Date(Date.now() + this.config.actionLeaseSeconds * 1000),
        });
        await this.auditLog.append(manager, actionAudit.cancelRequested(action, tracked.name, context, reason));
        return { action, step: tracked, definition };
      }
      await this.markCancelled(manager, action, context, reason);
      return null;
    });
    if (remote) await this.cancelAtMicrosoft(remote.action, remote.step, remote.definition, context, reason);
    return this.queries.get(actionId, context);
  }

  // --- internals --------------------------------------------------------------------------------

  private async decide(actionId: string, context: RequestContext, decision: 'approve' | 'reject', reason?: string): Promise<void> {
    await this.repository.transaction(async (manager) => {
      const action = await this.lockVisible(manager, actionId, context);
      if (action.status !== 'awaiting_approval')
        throw new Problem(409, 'action-not-awaiting-approval', 'Not awaiting approval', `Action ${actionId} is ${action.status}.`);
      if (action.requestedById === context.actor.id && action.requestedBy.type === context.actor.type) {
        throw new Problem(403, 'self-approval', 'Own request', 'A request must be approved or rejected by a different responder than the one who made it.');
      }
      const approved = decision === 'approve';
      await this.repository.update(
        manager,
        actionId,
        approved
          ? { status: 'queued', approvedBy: context.actor }
          : { status: 'rejected', decidedBy: context.actor, decisionReason: reason ?? null, completedAt: new Date() },
      );
      await this.auditLog.append(manager, actionAudit.decided(action, decision, context, reason));
      if (approved) await this.executor.enqueueSafetyNet(manager, actionId);
    });
  }

  private async markCancelled(
    manager: EntityManager,
    action: ActionEntity,
    context: RequestContext,
    reason: string | undefined,
    data: Record<string, unknown> = {},
  ): Promise<void> {
    await this.repository.update(manager, action.id, {
      status: 'cancelled',
      decidedBy: context.actor,
      decisionReason: reason ?? null,
      completedAt: new Date(),
      leaseOwner: null,
      leaseUntil: null,
    });
    await this.auditLog.append(manager, actionAudit.cancelled(action, context, reason, data));
  }

  private async cancelAtMicrosoft(
    action: ActionEntity,
    step: ActionStepEntity,
    definition: StepDefinition,
    context: RequestContext,
    reason: string | undefined,
  ): Promise<void> {
    const ctx: StepContext = {
      actionId: action.id,
      tenantId: action.tenantId,
      target: action.target as unknown as ActionTarget,
      params: action.params,
      attempt: Math.max(1, step.attempts),
      reason: action.reason,
      requestedBy: action.requestedBy,
      clientRequestId: context.requestId,
      capabilities: {},
      state: step.state ?? {},
    };
    let outcome: { summary: string; detail?: Record<string, unknown> };
    try {
      outcome = await definition.cancel!(ctx, reason ?? 'cancelled in Cordon', context.actor);
    } catch (error) {
      const stepError = error instanceof StepError ? error : new StepError('step-failed', error instanceof Error ? error.message : String(error));
      // Let tracking carry on at once: it will see how the work ended.
      const dueAt = new Date();
      await this.repository.transaction(async (manager) => {
        await this.repository.updateStep(manager, action.id, step.position, { nextPollAt: dueAt });
        await this.repository.update(manager, action.id, { leaseOwner: null, leaseUntil: null });
        await this.jobs.send(POLL_QUEUE, { actionId: action.id, dueAt: dueAt.toISOString() }, { retryLimit: 5 }, manager);
        await this.auditLog.append(manager, actionAudit.cancelFailed(action, step.name, context, stepError));
      });
      throw new Problem(409, 'action-not-cancellable', 'Action cannot be cancelled', `Microsoft did not cancel step ${step.name}: ${stepError.message}`, {
        actionId: action.id,
        error: stepError.toJSON(),
      });
    }
    await this.repository.transaction(async (manager) => {
      const current = await this.repository.lock(manager, action.id);
      if (!current || FINAL_STATUSES.includes(current.status)) return;
      await this.repository.updateStep(manager, action.id, step.position, {
        status: 'failed',
        finishedAt: new Date(),
        nextPollAt: null,
        detail: { ...(step.detail ?? {}), summary: outcome.summary, ...(outcome.detail ?? {}) },
        error: { code: 'cancelled', message: outcome.summary },
      });
      await this.markCancelled(manager, current, context, reason, { step: step.name, microsoft: outcome.summary });
    });
  }

  private async lockVisible(manager: EntityManager, actionId: string, context: RequestContext): Promise<ActionEntity> {
    const action = await this.repository.lock(manager, actionId);
    if (!action) throw problems.notFound(`Action ${actionId} does not exist.`);
    assertTenantAccess(context.principal, action.tenantId);
    return action;
  }
}
