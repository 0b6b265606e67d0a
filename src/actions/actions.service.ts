import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import type { AuditEntryInput } from '../audit-log/audit-entry';
import { AuditLogService } from '../audit-log/audit-log.service';
import type { RequestContext } from '../auth/access.decorator';
import { assertTenantAccess, canAccessTenant } from '../auth/tenant-scope';
import { decodeCursor, Page, toPage } from '../common/paging';
import { Problem, problems } from '../common/problem';
import { JobsService } from '../jobs/jobs.service';
import { TenantCapabilitiesService, capabilityStatuses, statusNames } from '../tenants/tenant-capabilities.service';
import { PolicyDto } from '../tenants/dto/policy.dto';
import { policyInForce } from '../tenants/tenant-policies.service';
import { TenantsService } from '../tenants/tenants.service';
import { ActionCatalogue } from './action-catalogue';
import { ActionExecutor, AdmittedAction, POLL_QUEUE } from './action-executor';
import { ActionHandler, ActionTarget, StepContext, StepDefinition, StepError } from './action-handler';
import { toActionResponse } from './action-view';
import { ActionEntity, ActionStepEntity, FINAL_STATUSES } from './action.entity';
import { ACCEPTED, ActionsRepository } from './actions.repository';
import { ActionQueryDto, ActionRequestDto, ActionResponse } from './dto/action.dto';
import { HttpResult, withIdempotency } from './idempotency';
import { IdempotencyRepository } from '../idempotency/idempotency.repository';

export const EXECUTE_QUEUE = 'actions.execute';

export interface ActionRequest {
  tenantId: string;
  type: string;
  requested: string;
  /** The validated body: reason, ticket, dryRun and the type's own parameters. */
  body: ActionRequestDto;
  context: RequestContext;
  idempotencyKey?: string;
  /** Seconds to wait for the final state (Prefer: wait=N), at most 60. */
  waitSeconds?: number;
}

const subjectOf = (type: string, target: string) => `${type}:${target}`;

/** Why the policy protects the target, or null: protected users and groups; protected devices and device tags. */
function protectionOf(kind: ActionHandler['targetKind'], target: ActionTarget, policy: PolicyDto): string | null {
  if (kind === 'device') {
    const device = target.identities.find((i) => (policy.protectedDevices ?? []).includes(i));
    if (device) return `protected device ${device}`;
    const tag = (target.tags ?? []).find((t) => (policy.protectedDeviceTags ?? []).includes(t));
    return tag ? `tagged ${tag}` : null;
  }
  if (target.identities.some((i) => policy.protectedUsers.includes(i))) return 'protected user';
  const group = target.groups.find((g) => policy.protectedGroups.includes(g));
  return group ? `member of protected group ${group}` : null;
}

/**
 * Admission of response actions: idempotency, tenant scope, capability, target resolution, policy
 * (protected targets, approvals, hourly caps), then execution. The request is in the audit log before
 * any Microsoft call; refusals are recorded as rejected actions and answered as problems.
 */
@Injectable()
export class ActionsService {
  private readonly logger = new Logger(ActionsService.name);
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: ActionsRepository,
    private readonly catalogue: ActionCatalogue,
    private readonly executor: ActionExecutor,
    private readonly auditLog: AuditLogService,
    private readonly jobs: JobsService,
    private readonly tenants: TenantsService,
    private readonly capabilities: TenantCapabilitiesService,
    private readonly idempotency: IdempotencyRepository,
  ) {}

  request(input: ActionRequest): Promise<HttpResult> {
    const fingerprint = { type: input.type, tenantId: input.tenantId, target: input.requested, body: input.body };
    return withIdempotency(this.idempotency, `${input.context.principal.type}:${input.context.principal.id}`, input.idempotencyKey, fingerprint, () => this.admit(input));
  }

  private async admit(input: ActionRequest): Promise<HttpResult> {
    const { context } = input;
    // The tenant, its policy and its capabilities in one read; the request is recorded next, before anything is asked of Microsoft.
    const guardrails = await this.tenants.findVisibleWithGuardrails(context.principal, input.tenantId);
    const { tenant } = guardrails;
    if (!tenant.enabled) throw new Problem(409, 'tenant-disabled', 'Tenant disabled', `Tenant ${tenant.id} is disabled; enable it to act on it.`);
    const handler = this.catalogue.get(input.type);
    const { reason, ticket, dryRun, ...params } = input.body as ActionRequestDto & Record<string, unknown>;

    const id = randomUUID();
    const requested: AuditEntryInput = {
      event: 'action.requested',
      actor: context.actor,
      tenantId: tenant.id,
      actionId: id,
      subject: subjectOf(input.type, input.requested),
      requestId: context.requestId,
      data: { type: input.type, target: input.requested, reason, ticket: ticket ?? null, dryRun: dryRun ?? false, params },
    };
    const record = { id, tenantId: tenant.id, type: input.type, target: { requested: input.requested }, targetKey: input.requested.toLowerCase(), status: 'queued' as const, reason, ticket: ticket ?? null, dryRun: dryRun ?? false, params, requestedBy: context.actor, requestedById: context.actor.id };
    const action = await this.auditLog.appendWith([{ entry: requested }], (insert) => this.repository.insertRequest(record, insert));
    const statuses = capabilityStatuses(guardrails.capabilities);
    const policy = policyInForce(guardrails.policy);

    await this.checkCapabilities(action, handler, statuses, context);
    let target: ActionTarget;
    try {
      target = await handler.resolve(tenant.id, input.requested);
    } catch (error) {
      // A refusal the handler words itself (an ambiguous device name ⇒ 409 with the candidates).
      if (error instanceof Problem) await this.refuse(action, context.requestId, new Problem(error.status, error.slug, error.title, error.detail, { actionId: action.id, ...error.extras }, error.headers));
      const stepError = error instanceof StepError ? error : new StepError('target-resolution-failed', error instanceof Error ? error.message : String(error));
      await this.failResolution(action, stepError, context.requestId);
      return this.answer(action.id, 202);
    }
    const why = protectionOf(handler.targetKind, target, policy);
    if (why) {
      await this.refuse(action, context.requestId, new Problem(409, 'protected-target', 'Protected target', `${target.display} is protected by the tenant policy (${why}); Cordon will not act on it.`, { actionId: action.id, target: target.display }));
    }
    const needsApproval = !context.principal.roles.includes('responder') || policy.approvalRequired.includes(input.type);
    const definitions = handler.steps(params);

    if (dryRun) return this.dryRun(action, handler, target, params, context.requestId, needsApproval);

    const next = needsApproval ? 'awaiting_approval' : 'queued';
    const changes = { status: next, target: { ...target, requested: input.requested }, targetKey: target.id.toLowerCase() } as const;
    const steps = definitions.map((d) => d.name);
    const accepted: AuditEntryInput = {
      event: needsApproval ? 'action.awaiting-approval' : 'action.accepted',
      actor: context.actor,
      tenantId: tenant.id,
      actionId: action.id,
      subject: subjectOf(input.type, target.display),
      requestId: context.requestId,
      data: { target: { id: target.id, display: target.display, ...(target.details ?? {}) }, steps, ...(needsApproval ? { why: policy.approvalRequired.includes(input.type) ? 'policy requires approval for this action type' : 'the requester is not a responder' } : {}) },
    };
    const limit = policy.hourlyLimits[input.type];
    if (limit === undefined && !needsApproval && steps.length > 0) {
      // The hot path: one statement admits the action and starts its first step under this process's
      // lease, with both audit entries, before the step's Microsoft call. The durable job is queued
      // while the step runs (if this process dies first, the sweep resumes the lapsed lease).
      const firstRequestId = randomUUID();
      const admitted: AdmittedAction = {
        action: Object.assign(action, changes, { status: 'running' as const, leaseOwner: this.executor.owner }),
        steps: steps.map((name, position) => Object.assign(new ActionStepEntity(), { actionId: action.id, position, name, status: 'pending', attempts: 0, startedAt: null, finishedAt: null, microsoftRequestId: null, detail: null, error: null, state: null, nextPollAt: null })),
        capabilities: statusNames(statuses),
        firstRequestId,
      };
      const entries = [{ entry: accepted, onlyIf: ACCEPTED }, { entry: this.executor.startEntry(action, admitted.steps[0], firstRequestId), onlyIf: ACCEPTED }];
      const lease = { owner: this.executor.owner, seconds: this.config.actionLeaseSeconds };
      const { accepted: admittedNow, at } = await this.auditLog.appendWith(entries, (insert) => this.repository.acceptAndStart(action.id, steps, changes, lease, firstRequestId, insert));
      if (!admittedNow) return this.answer(action.id, 202); // cancelled before it was admitted
      action.updatedAt = at;
      Object.assign(admitted.steps[0], { status: 'running', attempts: 1, microsoftRequestId: firstRequestId, startedAt: at });
      const [answer] = await Promise.all([this.startAndAnswer(action.id, input.waitSeconds, admitted), this.enqueueSafetyNet(undefined, action.id).catch((error) => this.logger.warn({ err: error, actionId: action.id }, 'safety-net job not queued; the recovery sweep covers the action'))]);
      return answer;
    }
    if (limit === undefined) {
      // Waits for approval (or has no steps): admitted in one statement (steps, status, audit entry).
      const admittedNow = await this.auditLog.appendWith([{ entry: accepted, onlyIf: ACCEPTED }], (insert) => this.repository.accept(undefined, action.id, steps, changes, insert));
      if (!admittedNow || needsApproval) return this.answer(action.id, 202);
      await this.enqueueSafetyNet(undefined, action.id);
      return this.startAndAnswer(action.id, input.waitSeconds);
    }
    // A capped type queues its admissions (per tenant and type), so that counting and admitting are one step.
    const admittedNow = await this.repository.transaction(async (manager) => {
      await this.repository.lockAdmission(manager, tenant.id, input.type);
      const recent = await this.repository.recentForCap(manager, tenant.id, input.type, action.id);
      if (recent.length >= limit) {
        const retryAfter = Math.max(1, Math.ceil((recent[0].getTime() + 3600_000 - Date.now()) / 1000));
        throw new Problem(429, 'action-rate-limited', 'Action rate limit reached', `The tenant policy allows ${limit} ${input.type} action(s) per hour; try again in ${retryAfter} s.`, { actionId: action.id, limit, retryAfterSeconds: retryAfter }, { 'Retry-After': String(retryAfter) });
      }
      if (!(await this.repository.accept(manager, action.id, steps, changes))) return false; // cancelled meanwhile
      await this.auditLog.append(manager, accepted);
      if (!needsApproval) await this.enqueueSafetyNet(manager, action.id);
      return true;
    }).catch(async (error) => {
      if (error instanceof Problem && error.slug === 'action-rate-limited') await this.refuse(action, context.requestId, error);
      throw error;
    });
    if (!admittedNow || needsApproval) return this.answer(action.id, 202);
    return this.startAndAnswer(action.id, input.waitSeconds);
  }

  async approve(actionId: string, context: RequestContext, waitSeconds?: number): Promise<HttpResult> {
    await this.decide(actionId, context, 'approve');
    return this.startAndAnswer(actionId, waitSeconds);
  }

  async reject(actionId: string, context: RequestContext, reason?: string): Promise<ActionResponse> {
    await this.decide(actionId, context, 'reject', reason);
    return this.get(actionId, context);
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
      if (FINAL_STATUSES.includes(action.status)) throw new Problem(409, 'action-finished', 'Action already finished', `Action ${actionId} is ${action.status}; there is nothing to cancel.`);
      const tracked = action.status === 'running' ? (await this.repository.steps(actionId, manager)).find((s) => s.status === 'running' && s.state !== null) : undefined;
      const definition = tracked ? this.catalogue.get(action.type).steps(action.params)[tracked.position] : undefined;
      if (tracked && definition?.cancel) {
        // Hold the action while Microsoft is asked, so a wake-up does not poll it meanwhile.
        await this.repository.update(manager, actionId, { leaseOwner: `cancel:${context.requestId}`, leaseUntil: new Date(Date.now() + this.config.actionLeaseSeconds * 1000) });
        await this.auditLog.append(manager, { event: 'action.cancel-requested', actor: context.actor, tenantId: action.tenantId, actionId, subject: subjectOf(action.type, action.targetKey), requestId: context.requestId, data: { step: tracked.name, reason: reason ?? null } });
        return { action, step: tracked, definition };
      }
      await this.markCancelled(manager, action, context, reason);
      return null;
    });
    if (remote) await this.cancelAtMicrosoft(remote.action, remote.step, remote.definition, context, reason);
    return this.get(actionId, context);
  }

  private async markCancelled(manager: EntityManager, action: ActionEntity, context: RequestContext, reason: string | undefined, data: Record<string, unknown> = {}): Promise<void> {
    await this.repository.update(manager, action.id, { status: 'cancelled', decidedBy: context.actor, decisionReason: reason ?? null, completedAt: new Date(), leaseOwner: null, leaseUntil: null });
    await this.auditLog.append(manager, { event: 'action.cancelled', actor: context.actor, tenantId: action.tenantId, actionId: action.id, subject: subjectOf(action.type, action.targetKey), requestId: context.requestId, data: { from: action.status, reason: reason ?? null, ...data } });
  }

  private async cancelAtMicrosoft(action: ActionEntity, step: ActionStepEntity, definition: StepDefinition, context: RequestContext, reason: string | undefined): Promise<void> {
    const ctx: StepContext = { actionId: action.id, tenantId: action.tenantId, target: action.target as unknown as ActionTarget, params: action.params, reason: action.reason, requestedBy: action.requestedBy, clientRequestId: context.requestId, capabilities: {}, state: step.state ?? {} };
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
        await this.auditLog.append(manager, { event: 'action.cancel-failed', actor: context.actor, tenantId: action.tenantId, actionId: action.id, subject: subjectOf(action.type, action.targetKey), requestId: context.requestId, data: { step: step.name, error: stepError.toJSON() } });
      });
      throw new Problem(409, 'action-not-cancellable', 'Action cannot be cancelled', `Microsoft did not cancel step ${step.name}: ${stepError.message}`, { actionId: action.id, error: stepError.toJSON() });
    }
    await this.repository.transaction(async (manager) => {
      const current = await this.repository.lock(manager, action.id);
      if (!current || FINAL_STATUSES.includes(current.status)) return;
      await this.repository.updateStep(manager, action.id, step.position, { status: 'failed', finishedAt: new Date(), nextPollAt: null, detail: { ...(step.detail ?? {}), summary: outcome.summary, ...(outcome.detail ?? {}) }, error: { code: 'cancelled', message: outcome.summary } });
      await this.markCancelled(manager, current, context, reason, { step: step.name, microsoft: outcome.summary });
    });
  }

  async get(actionId: string, context: RequestContext): Promise<ActionResponse> {
    const action = await this.repository.findById(actionId);
    if (!action || !canAccessTenant(context.principal, action.tenantId)) throw problems.notFound(`Action ${actionId} does not exist.`);
    return toActionResponse(action, await this.repository.steps(actionId));
  }

  async list(query: ActionQueryDto, context: RequestContext): Promise<Page<ActionResponse>> {
    const after = decodeCursor(query.cursor, 2) as [string, string] | undefined;
    const rows = await this.repository.listPage({ ...query, tenantIds: context.principal.tenantIds }, query.limit, after && { createdAt: after[0], id: after[1] });
    const steps = await this.repository.stepsOf(rows.slice(0, query.limit).map((r) => r.id));
    return toPage(rows, query.limit, (a) => [a.createdAt.toISOString(), a.id], (a) => toActionResponse(a, steps.get(a.id) ?? []));
  }

  // --- internals --------------------------------------------------------------------------------

  private async checkCapabilities(action: ActionEntity, handler: ActionHandler, statuses: Record<string, { status: string; detail: string | null }>, context: RequestContext): Promise<void> {
    for (const capability of handler.requiredCapabilities) {
      const status = statuses[capability];
      if (status?.status !== 'available') {
        await this.refuse(action, context.requestId, new Problem(409, 'capability-unavailable', 'Capability unavailable', `${action.type} needs ${capability}, which is ${status ? `${status.status}${status.detail ? `: ${status.detail}` : ''}` : 'not probed yet'} for this tenant.`, { actionId: action.id, capability, capabilityStatus: status?.status ?? 'unknown' }));
      }
    }
  }

  /** Records the refusal on the action and throws the problem for the caller. */
  private async refuse(action: ActionEntity, requestId: string, problem: Problem): Promise<never> {
    await this.repository.transaction(async (manager) => {
      if (!(await this.stillQueued(manager, action.id))) return; // cancelled while its target was resolved: that record stands
      await this.repository.update(manager, action.id, { status: 'rejected', error: { code: problem.slug, message: problem.detail ?? problem.title }, decidedBy: { type: 'system', id: 'policy', name: 'Cordon policy' }, completedAt: new Date() });
      await this.auditLog.append(manager, { event: 'action.refused', actor: { type: 'system', id: 'policy', name: 'Cordon policy' }, tenantId: action.tenantId, actionId: action.id, subject: subjectOf(action.type, action.targetKey), requestId, data: { code: problem.slug, detail: problem.detail } });
    });
    throw problem;
  }

  private async failResolution(action: ActionEntity, error: StepError, requestId: string): Promise<void> {
    await this.repository.transaction(async (manager) => {
      if (!(await this.stillQueued(manager, action.id))) return;
      await this.repository.insertSteps(manager, action.id, ['resolve-target']);
      await this.repository.updateStep(manager, action.id, 0, { status: 'failed', attempts: 1, startedAt: action.createdAt, finishedAt: new Date(), error: error.toJSON(), microsoftRequestId: error.extra.microsoftRequestId ?? null });
      await this.repository.update(manager, action.id, { status: 'failed', error: error.toJSON(), completedAt: new Date() });
      await this.auditLog.append(manager, { event: 'action.failed', actor: { type: 'system', id: 'actions-engine', name: 'actions engine' }, tenantId: action.tenantId, actionId: action.id, subject: subjectOf(action.type, action.targetKey), requestId, data: { error: error.toJSON() } });
    });
  }

  private async dryRun(action: ActionEntity, handler: ActionHandler, target: ActionTarget, params: Record<string, unknown>, requestId: string, needsApproval: boolean): Promise<HttpResult> {
    const capabilities = statusNames(await this.capabilities.statusesOf(action.tenantId));
    const ctx: StepContext = { actionId: action.id, tenantId: action.tenantId, target, params, reason: action.reason, requestedBy: action.requestedBy, clientRequestId: action.id, capabilities };
    const definitions = handler.steps(params);
    const plan: Array<{ step: string; wouldChange: string; changes: boolean }> = [];
    for (const d of definitions) plan.push({ step: d.name, ...(await d.preview(ctx)) });
    await this.repository.transaction(async (manager) => {
      if (!(await this.stillQueued(manager, action.id))) return;
      await this.repository.insertSteps(manager, action.id, definitions.map((d) => d.name));
      for (const [position, p] of plan.entries()) await this.repository.updateStep(manager, action.id, position, { status: 'skipped', detail: { dryRun: true, wouldChange: p.wouldChange, changes: p.changes } });
      const result = { dryRun: true, plan, wouldNeedApproval: needsApproval, ...(handler.notes?.length ? { notes: handler.notes } : {}) };
      await this.repository.update(manager, action.id, { status: 'succeeded', target: target as never, targetKey: target.id.toLowerCase(), result, completedAt: new Date() });
      await this.auditLog.append(manager, { event: 'action.dry-run', actor: action.requestedBy, tenantId: action.tenantId, actionId: action.id, subject: subjectOf(action.type, target.display), requestId, data: result });
    });
    return this.answer(action.id, 200);
  }

  /** Locks the action and answers whether it is still queued as its request left it (not cancelled meanwhile). */
  private async stillQueued(manager: EntityManager, actionId: string): Promise<boolean> {
    return (await this.repository.lock(manager, actionId))?.status === 'queued';
  }

  private async decide(actionId: string, context: RequestContext, decision: 'approve' | 'reject', reason?: string): Promise<void> {
    await this.repository.transaction(async (manager) => {
      const action = await this.lockVisible(manager, actionId, context);
      if (action.status !== 'awaiting_approval') throw new Problem(409, 'action-not-awaiting-approval', 'Not awaiting approval', `Action ${actionId} is ${action.status}.`);
      if (action.requestedById === context.actor.id && action.requestedBy.type === context.actor.type) {
        throw new Problem(403, 'self-approval', 'Own request', 'A request must be approved or rejected by a different responder than the one who made it.');
      }
      const approved = decision === 'approve';
      await this.repository.update(manager, actionId, approved ? { status: 'queued', approvedBy: context.actor } : { status: 'rejected', decidedBy: context.actor, decisionReason: reason ?? null, completedAt: new Date() });
      await this.auditLog.append(manager, { event: approved ? 'action.approved' : 'action.rejected', actor: context.actor, tenantId: action.tenantId, actionId, subject: subjectOf(action.type, action.targetKey), requestId: context.requestId, data: { reason: reason ?? null } });
      if (approved) await this.enqueueSafetyNet(manager, actionId);
    });
  }

  private async lockVisible(manager: EntityManager, actionId: string, context: RequestContext): Promise<ActionEntity> {
    const action = await this.repository.lock(manager, actionId);
    if (!action) throw problems.notFound(`Action ${actionId} does not exist.`);
    assertTenantAccess(context.principal, action.tenantId);
    return action;
  }

  /** Durable fallback: if this process dies before running the action, the job (on any replica) does. */
  private async enqueueSafetyNet(manager: EntityManager | undefined, actionId: string): Promise<void> {
    await this.jobs.send(EXECUTE_QUEUE, { actionId }, { startAfter: this.config.actionLeaseSeconds, singletonKey: actionId, retryLimit: 5, retryDelay: this.config.actionLeaseSeconds }, manager);
  }

  /** The hot path: run now in this process; with Prefer: wait, answer with the final state if it comes in time. */
  private async startAndAnswer(actionId: string, waitSeconds?: number, admitted?: AdmittedAction): Promise<HttpResult> {
    const running = this.executor.execute(actionId, undefined, admitted);
    if (waitSeconds && waitSeconds > 0) {
      const finished = await Promise.race([running, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), waitSeconds * 1000).unref())]);
      // Finished here: the executor's view is what it has just recorded, to the timestamp.
      if (finished) return respond(200, finished.action, finished.steps);
      // Otherwise one read answers both: 200 with the final state (finished elsewhere), else 202 with the current one.
      const answer = await this.answer(actionId, 200);
      return (FINAL_STATUSES as string[]).includes(answer.body.status) ? answer : { ...answer, status: 202 };
    }
    return this.answer(actionId, 202);
  }

  private async answer(actionId: string, status: number): Promise<HttpResult & { body: ActionResponse }> {
    const [action, steps] = await Promise.all([this.repository.findById(actionId), this.repository.steps(actionId)]);
    return respond(status, action!, steps);
  }
}

function respond(status: number, action: ActionEntity, steps: ActionStepEntity[]): HttpResult & { body: ActionResponse } {
  return { status, body: toActionResponse(action, steps), headers: { Location: `/v1/actions/${action.id}` } };
}
