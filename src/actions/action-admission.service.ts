import { idempotencyProblems } from '../idempotency/idempotency-key';
import type { IdempotencyHold } from '../idempotency/idempotent.interceptor';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { AuditLogService } from '../audit-log/audit-log.service';
import type { RequestContext } from '../access/access.decorator';
import { Problem } from '../common/problem';
import { TenantCapabilitiesService, capabilityStatuses, statusNames } from '../tenants/tenant-capabilities.service';
import { PolicyDto } from '../tenants/dto/policy.dto';
import { policyInForce } from '../tenants/tenant-policies.service';
import { TenantsService } from '../tenants/tenants.service';
import { actionAudit, POLICY } from './action-audit';
import { ActionCatalogue } from './action-catalogue';
import { ActionSecrets } from './action-secrets';
import { ActionExecutor, AdmittedAction } from './action-executor';
import { ActionHandler, ActionTarget, StepContext, StepError } from './action-handler';
import { ActionAnswer, toActionResponse } from './action-view';
import { ActionEntity, ActionStepEntity, FINAL_STATUSES } from './action.entity';
import { ACCEPTED, ActionsRepository, NewAction } from './actions.repository';
import { ActionRequestDto } from './dto/action.dto';
import { ActionEvidence } from './evidence/action-evidence.service';
import { releasePlan } from './releases/release-window';

/** What an action route knows of its call: the action type it creates, who asks, and `Prefer: wait`. */
export interface ActionCall {
  type: string;
  context: RequestContext;
  /** Seconds to wait for the final state (Prefer: wait=N), at most 60. */
  waitSeconds?: number;
  /** The request's Idempotency-Key, when it has one, and the action a dead request with it had recorded. */
  idempotency?: IdempotencyHold;
}

export interface ActionRequest extends ActionCall {
  tenantId: string;
  requested: string;
  /** The validated body: reason, ticket, dryRun and the type's own parameters. */
  body: ActionRequestDto;
}

/** Why the policy protects the target, or null: protected users and groups; protected devices and device tags (other kinds: none). */
function protectionOf(kind: ActionHandler['targetKind'], target: ActionTarget, policy: PolicyDto): string | null {
  if (kind === 'device') {
    const device = target.identities.find((i) => (policy.protectedDevices ?? []).includes(i));
    if (device) return `protected device ${device}`;
    const tag = (target.tags ?? []).find((t) => (policy.protectedDeviceTags ?? []).includes(t));
    return tag ? `tagged ${tag}` : null;
  }
  if (kind !== 'user') return null;
  if (target.identities.some((i) => policy.protectedUsers.includes(i))) return 'protected user';
  const group = target.groups.find((g) => policy.protectedGroups.includes(g));
  return group ? `member of protected group ${group}` : null;
}

/**
 * Why the action waits for a responder's approval, or null: the policy asks for it, the handler always
 * does (unless the policy relaxes it), or the requester is no responder.
 */
function approvalNeeded(handler: ActionHandler, context: RequestContext, policy: PolicyDto): string | null {
  if (policy.approvalRequired.includes(handler.type)) return 'policy requires approval for this action type';
  if (handler.alwaysNeedsApproval?.(policy as unknown as Record<string, unknown>)) return "this action type always waits for a second responder's approval";
  return context.principal.roles.includes('responder') ? null : 'the requester is not a responder';
}

/**
 * Admission of response actions (ARCHITECTURE.md §5.2): tenant scope, capability, target resolution,
 * policy (protected targets, approvals, hourly caps), dry run, then execution. The request is in the
 * audit log before any Microsoft call; refusals are recorded as rejected actions and thrown as problems.
 * Idempotency-Key is the route's (`@ActionRoute`).
 */
@Injectable()
export class ActionAdmissionService {
  private readonly logger = new Logger(ActionAdmissionService.name);
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: ActionsRepository,
    private readonly catalogue: ActionCatalogue,
    private readonly executor: ActionExecutor,
    private readonly auditLog: AuditLogService,
    private readonly tenants: TenantsService,
    private readonly capabilities: TenantCapabilitiesService,
    private readonly secrets: ActionSecrets,
    private readonly evidence: ActionEvidence,
  ) {}

  async request(input: ActionRequest): Promise<ActionAnswer> {
    const { context } = input;
    // The tenant, its policy and its capabilities in one read; the request is recorded next, before anything is asked of Microsoft.
    const guardrails = await this.tenants.findVisibleWithGuardrails(context.principal, input.tenantId);
    const { tenant } = guardrails;
    if (!tenant.enabled) throw new Problem(409, 'tenant-disabled', 'Tenant disabled', `Tenant ${tenant.id} is disabled; enable it to act on it.`);
    const handler = this.catalogue.get(input.type);
    const lease = { owner: this.executor.owner, seconds: this.config.actionLeaseSeconds };

    // A retry of a request whose process died after recording it carries on with that action.
    const resumed = input.idempotency?.resumeActionId ? await this.resume(input.idempotency.resumeActionId, input, lease) : undefined;
    if (resumed && 'answer' in resumed) return resumed.answer;
    const { record, secrets } = this.recordOf(input, tenant.id, handler.secretParams ?? []);
    const action =
      resumed?.action ??
      (await this.auditLog.appendWith([{ entry: actionAudit.requested(record, context) }], (insert) =>
        this.repository.insertRequest(record, insert, lease, input.idempotency),
      ));
    this.secrets.put(action.id, secrets);
    // The admission is held under this process's lease while it runs: if the process dies, a retry or the recovery sweep takes over.
    const heartbeat = setInterval(
      () => void this.repository.renewAdmission(action.id, lease.owner, lease.seconds).catch(() => undefined),
      (lease.seconds * 1000) / 3,
    );
    heartbeat.unref();
    try {
      return await this.admit(input, action, guardrails, handler, record.params, record.dryRun);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /**
   * The action a request with this Idempotency-Key recorded before its process died: its admission is
   * taken over once the dead process's lease lapses (waiting for that, at most one lease), so the retry
   * carries on with it; an action admitted already is answered (and resumed if its runner died).
   * Undefined when the key named no action of this request (a new one is recorded).
   */
  private async resume(
    actionId: string,
    input: ActionRequest,
    lease: { owner: string; seconds: number },
  ): Promise<{ action: ActionEntity } | { answer: ActionAnswer } | undefined> {
    const until = Date.now() + (lease.seconds + 1) * 1000;
    for (;;) {
      const prior = await this.repository.findById(actionId);
      if (!prior || prior.tenantId !== input.tenantId || prior.type !== input.type) return undefined;
      const admitted = (prior.target as { id?: string }).id !== undefined;
      if (admitted || prior.status !== 'queued') {
        if ((FINAL_STATUSES as string[]).includes(prior.status)) return { answer: await this.answer(prior.id, prior.dryRun ? 'planned' : 'finished') };
        return { answer: await this.start(prior.id, input.waitSeconds) };
      }
      if (await this.repository.takeOverAdmission(prior.id, lease.owner, lease.seconds)) return { action: prior };
      if (Date.now() > until) throw idempotencyProblems.inProgress();
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** The action to record, and the secrets of its body, which are kept out of it (`ActionHandler.secretParams`). */
  private recordOf(
    input: ActionRequest,
    tenantId: string,
    secretParams: string[],
  ): { record: NewAction & { target: { requested: string } }; secrets: Record<string, string> } {
    const { reason, ticket, dryRun, ...params } = input.body as ActionRequestDto & Record<string, unknown>;
    const secrets: Record<string, string> = {};
    for (const name of secretParams) {
      if (typeof params[name] === 'string') {
        secrets[name] = params[name];
        params[`${name}Given`] = true;
      }
      delete params[name];
    }
    return {
      secrets,
      record: {
        id: randomUUID(),
        tenantId,
        type: input.type,
        target: { requested: input.requested },
        targetKey: input.requested.toLowerCase(),
        status: 'queued',
        reason,
        ticket: ticket ?? null,
        dryRun: dryRun ?? false,
        params,
        requestedBy: input.context.actor,
        requestedById: input.context.actor.id,
      },
    };
  }

  /** Admission of a recorded request: capabilities, target, policy, approval, cap, then the start (ARCHITECTURE.md §5.2). */
  private async admit(
    input: ActionRequest,
    action: ActionEntity,
    guardrails: Awaited<ReturnType<TenantsService['findVisibleWithGuardrails']>>,
    handler: ActionHandler,
    params: Record<string, unknown>,
    dryRun: boolean,
  ): Promise<ActionAnswer> {
    const { context } = input;
    const { tenant } = guardrails;
    const statuses = capabilityStatuses(guardrails.capabilities);
    const policy = policyInForce(guardrails.policy);

    await this.checkCapabilities(action, handler, statuses, context);
    let target: ActionTarget;
    try {
      target = await handler.resolve(tenant.id, input.requested, params);
    } catch (error) {
      // A refusal the handler words itself (an ambiguous device name ⇒ 409 with the candidates).
      if (error instanceof Problem)
        await this.refuse(
          action,
          context.requestId,
          new Problem(error.status, error.slug, error.title, error.detail, { actionId: action.id, ...error.extras }, error.headers),
        );
      const stepError = error instanceof StepError ? error : new StepError('target-resolution-failed', error instanceof Error ? error.message : String(error));
      await this.failResolution(action, stepError, context.requestId);
      return this.answer(action.id, 'accepted');
    }
    const why = protectionOf(handler.targetKind, target, policy);
    if (why) {
      await this.refuse(
        action,
        context.requestId,
        new Problem(409, 'protected-target', 'Protected target', `${target.display} is protected by the tenant policy (${why}); Cordon will not act on it.`, {
          actionId: action.id,
          target: target.display,
        }),
      );
    }
    const approvalWhy = approvalNeeded(handler, context, policy);
    const needsApproval = approvalWhy !== null;
    const definitions = handler.steps(params);

    if (dryRun) return this.dryRun(action, handler, target, params, context.requestId, needsApproval);

    const next = needsApproval ? 'awaiting_approval' : 'queued';
    const changes = { status: next, target: { ...target, requested: input.requested }, targetKey: target.id.toLowerCase() } as const;
    const steps = definitions.map((d) => d.name);
    const accepted = actionAudit.accepted(action, target, steps, context, approvalWhy);
    const limit = policy.hourlyLimits[input.type];
    if (limit === undefined && !needsApproval && steps.length > 0) {
      // The hot path: one statement admits the action and starts its first step under this process's
      // lease, with both audit entries, before the step's Microsoft call. The durable job is queued
      // while the step runs (if this process dies first, the sweep resumes the lapsed lease).
      const firstRequestId = randomUUID();
      const admitted: AdmittedAction = {
        action: Object.assign(action, changes, { status: 'running' as const, leaseOwner: this.executor.owner }),
        steps: steps.map((name, position) =>
          Object.assign(new ActionStepEntity(), {
            actionId: action.id,
            position,
            name,
            status: 'pending',
            attempts: 0,
            startedAt: null,
            finishedAt: null,
            microsoftRequestId: null,
            detail: null,
            error: null,
            state: null,
            nextPollAt: null,
          }),
        ),
        capabilities: statusNames(statuses),
        firstRequestId,
      };
      // What the target looks like before anything changes, in the same statement (ARCHITECTURE.md §5.7).
      const snapshot = await this.evidence.snapshotEntry(action, handler, { target, capabilities: admitted.capabilities, requestId: firstRequestId });
      const entries = [
        { entry: accepted, onlyIf: ACCEPTED },
        ...(snapshot ? [{ entry: snapshot, onlyIf: ACCEPTED }] : []),
        { entry: actionAudit.stepStarted(action, admitted.steps[0], firstRequestId), onlyIf: ACCEPTED },
      ];
      const lease = { owner: this.executor.owner, seconds: this.config.actionLeaseSeconds };
      const { accepted: admittedNow, at } = await this.auditLog.appendWith(entries, (insert) =>
        this.repository.acceptAndStart(action.id, steps, changes, lease, firstRequestId, insert),
      );
      if (!admittedNow) return this.answer(action.id, 'accepted'); // cancelled before it was admitted
      action.updatedAt = at;
      Object.assign(admitted.steps[0], { status: 'running', attempts: 1, microsoftRequestId: firstRequestId, startedAt: at });
      const [answer] = await Promise.all([
        this.start(action.id, input.waitSeconds, admitted),
        this.executor
          .enqueueSafetyNet(undefined, action.id)
          .catch((error) => this.logger.warn({ err: error, actionId: action.id }, 'safety-net job not queued; the recovery sweep covers the action')),
      ]);
      return answer;
    }
    if (limit === undefined) {
      // Waits for approval (or has no steps): admitted in one statement (steps, status, audit entry).
      const admittedNow = await this.auditLog.appendWith([{ entry: accepted, onlyIf: ACCEPTED }], (insert) =>
        this.repository.accept(undefined, action.id, steps, changes, insert),
      );
      if (!admittedNow || needsApproval) return this.answer(action.id, 'accepted');
      await this.executor.enqueueSafetyNet(undefined, action.id);
      return this.start(action.id, input.waitSeconds);
    }
    // A capped type queues its admissions (per tenant and type), so that counting and admitting are one step.
    const admittedNow = await this.repository
      .transaction(async (manager) => {
        await this.repository.lockAdmission(manager, tenant.id, input.type);
        const recent = await this.repository.recentForCap(manager, tenant.id, input.type, action.id);
        if (recent.length >= limit) {
          const retryAfter = Math.max(1, Math.ceil((recent[0].getTime() + 3600_000 - Date.now()) / 1000));
          throw new Problem(
            429,
            'action-rate-limited',
            'Action rate limit reached',
            `The tenant policy allows ${limit} ${input.type} action(s) per hour; try again in ${retryAfter} s.`,
            { actionId: action.id, limit, retryAfterSeconds: retryAfter },
            { 'Retry-After': String(retryAfter) },
          );
        }
        if (!(await this.repository.accept(manager, action.id, steps, changes))) return false; // cancelled meanwhile
        await this.auditLog.append(manager, accepted);
        if (!needsApproval) await this.executor.enqueueSafetyNet(manager, action.id);
        return true;
      })
      .catch(async (error) => {
        if (error instanceof Problem && error.slug === 'action-rate-limited') await this.refuse(action, context.requestId, error);
        throw error;
      });
    if (!admittedNow || needsApproval) return this.answer(action.id, 'accepted');
    return this.start(action.id, input.waitSeconds);
  }

  /**
   * Runs an admitted (or just approved) action now in this process; with Prefer: wait, answers its final
   * state if it comes in time.
   */
  async start(actionId: string, waitSeconds?: number, admitted?: AdmittedAction): Promise<ActionAnswer> {
    const running = this.executor.execute(actionId, undefined, admitted);
    if (!waitSeconds || waitSeconds <= 0) return this.answer(actionId, 'accepted');
    const finished = await Promise.race([running, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), waitSeconds * 1000).unref())]);
    // Finished here: the executor's view is what it has just recorded, to the timestamp.
    if (finished) return { action: toActionResponse(finished.action, finished.steps), outcome: 'finished' };
    // Otherwise one read answers both: the final state (finished elsewhere), else the current one.
    const answer = await this.answer(actionId, 'finished');
    return (FINAL_STATUSES as string[]).includes(answer.action.status) ? answer : { ...answer, outcome: 'accepted' };
  }

  // --- internals --------------------------------------------------------------------------------

  private async checkCapabilities(
    action: ActionEntity,
    handler: ActionHandler,
    statuses: Record<string, { status: string; detail: string | null }>,
    context: RequestContext,
  ): Promise<void> {
    for (const capability of handler.requiredCapabilities) {
      const status = statuses[capability];
      if (status?.status !== 'available') {
        await this.refuse(
          action,
          context.requestId,
          new Problem(
            409,
            'capability-unavailable',
            'Capability unavailable',
            `${action.type} needs ${capability}, which is ${status ? `${status.status}${status.detail ? `: ${status.detail}` : ''}` : 'not probed yet'} for this tenant.`,
            { actionId: action.id, capability, capabilityStatus: status?.status ?? 'unknown' },
          ),
        );
      }
    }
  }

  /** Records the refusal on the action and throws the problem for the caller. */
  private async refuse(action: ActionEntity, requestId: string, problem: Problem): Promise<never> {
    await this.repository.transaction(async (manager) => {
      if (!(await this.stillQueued(manager, action.id))) return; // cancelled while its target was resolved: that record stands
      await this.repository.update(manager, action.id, {
        status: 'rejected',
        error: { code: problem.slug, message: problem.detail ?? problem.title },
        decidedBy: POLICY,
        completedAt: new Date(),
      });
      await this.auditLog.append(manager, actionAudit.refused(action, requestId, problem));
    });
    throw problem;
  }

  private async failResolution(action: ActionEntity, error: StepError, requestId: string): Promise<void> {
    await this.repository.transaction(async (manager) => {
      if (!(await this.stillQueued(manager, action.id))) return;
      await this.repository.insertSteps(manager, action.id, ['resolve-target']);
      await this.repository.updateStep(manager, action.id, 0, {
        status: 'failed',
        attempts: 1,
        startedAt: action.createdAt,
        finishedAt: new Date(),
        error: error.toJSON(),
        microsoftRequestId: error.extra.microsoftRequestId ?? null,
      });
      await this.repository.update(manager, action.id, { status: 'failed', error: error.toJSON(), completedAt: new Date() });
      await this.auditLog.append(manager, actionAudit.resolutionFailed(action, requestId, error));
    });
  }

  private async dryRun(
    action: ActionEntity,
    handler: ActionHandler,
    target: ActionTarget,
    params: Record<string, unknown>,
    requestId: string,
    needsApproval: boolean,
  ): Promise<ActionAnswer> {
    const capabilities = statusNames(await this.capabilities.statusesOf(action.tenantId));
    const ctx: StepContext = {
      actionId: action.id,
      tenantId: action.tenantId,
      target,
      params,
      attempt: 1,
      reason: action.reason,
      requestedBy: action.requestedBy,
      clientRequestId: action.id,
      capabilities,
      ...(handler.secretParams ? { secrets: this.secrets.get(action.id) ?? {} } : {}),
    };
    const definitions = handler.steps(params);
    const plan: Array<{ step: string; wouldChange: string; changes: boolean }> = [];
    for (const d of definitions) plan.push({ step: d.name, ...(await d.preview(ctx)) });
    await this.repository.transaction(async (manager) => {
      if (!(await this.stillQueued(manager, action.id))) return;
      await this.repository.insertSteps(
        manager,
        action.id,
        definitions.map((d) => d.name),
      );
      for (const [position, p] of plan.entries())
        await this.repository.updateStep(manager, action.id, position, {
          status: 'skipped',
          detail: { dryRun: true, wouldChange: p.wouldChange, changes: p.changes },
        });
      const result = {
        dryRun: true,
        plan,
        wouldNeedApproval: needsApproval,
        ...(handler.notes?.length ? { notes: handler.notes } : {}),
        ...releasePlan(handler.release, params),
      };
      await this.repository.update(manager, action.id, {
        status: 'succeeded',
        target: target as never,
        targetKey: target.id.toLowerCase(),
        result,
        completedAt: new Date(),
      });
      await this.auditLog.append(manager, actionAudit.dryRun(action, target, requestId, result));
    });
    return this.answer(action.id, 'planned');
  }

  /** Locks the action and answers whether it is still queued as its request left it (not cancelled meanwhile). */
  private async stillQueued(manager: EntityManager, actionId: string): Promise<boolean> {
    return (await this.repository.lock(manager, actionId))?.status === 'queued';
  }

  private async answer(actionId: string, outcome: ActionAnswer['outcome']): Promise<ActionAnswer> {
    const [action, steps] = await Promise.all([this.repository.findById(actionId), this.repository.steps(actionId)]);
    return { action: toActionResponse(action!, steps), outcome };
  }
}
