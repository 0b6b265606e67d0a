import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { EntityManager } from 'typeorm';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import type { AuditEntryInput } from '../audit-log/audit-entry';
import { AuditLogService } from '../audit-log/audit-log.service';
import { TenantCapabilitiesService, statusNames } from '../tenants/tenant-capabilities.service';
import { JobsService } from '../jobs/jobs.service';
import { actionAudit, ENGINE } from './action-audit';
import { ActionTarget, StepContext, StepDefinition, StepError, StepInProgress } from './action-handler';
import { ActionCatalogue } from './action-catalogue';
import { ActionSecrets } from './action-secrets';
import { ActionEvidence } from './evidence/action-evidence.service';
import { ActionEntity, ActionStepEntity } from './action.entity';
import { ACTION_FINISHED, ActionFinal, ActionsRepository, FinishAlso, Recorded, STEP_STARTED, StepFinish } from './actions.repository';

/**
 * What another part of the engine records with an action's final state, in the same statement (`also`),
 * and does once that statement committed (`after`, only when this run finished it): time-boxed
 * containment schedules its release this way (src/actions/releases).
 */
export interface FinishExtension {
  also(action: ActionEntity, final: ActionFinal): FinishAlso | undefined;
  after(action: ActionEntity): Promise<void>;
}

/** The safety net of an admitted action: runs it if the process that admitted it did not (`{ actionId }`). */
export const EXECUTE_QUEUE = 'actions.execute';

/** Wakes a long-running or capacity-waiting step at its due time: `{ actionId, dueAt }`. */
export const POLL_QUEUE = 'actions.poll';

/**
 * An action exactly as admission has just written it — running under this executor's lease, its first
 * step started (recorded with `firstRequestId`) — and the tenant's capability statuses: the hot path
 * runs it without reading any of it back.
 */
export interface AdmittedAction {
  action: ActionEntity;
  steps: ActionStepEntity[];
  capabilities: Record<string, string>;
  firstRequestId: string;
}

/** An action this process has just finished, as recorded (its rows, without reading them back). */
export interface FinishedAction {
  action: ActionEntity;
  steps: ActionStepEntity[];
}

interface StepOutcome {
  status: 'succeeded' | 'skipped' | 'failed';
  microsoftRequestId: string;
  detail: Record<string, unknown> | null;
  error: Record<string, unknown> | null;
}

/**
 * Runs an action's steps, once, in order. Before each Microsoft call the step's start is in the audit
 * log, and its outcome is recorded before the next one (write-ahead, fail closed: if the audit write
 * fails, nothing further is sent). A lease makes one process the runner; a runner that dies leaves an
 * expiring lease, and whoever claims the action next resumes after the last recorded outcome.
 */
@Injectable()
export class ActionExecutor {
  private readonly logger = new Logger(ActionExecutor.name);
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly running = new Map<string, Promise<FinishedAction | undefined>>();
  /** In-process wake-ups of waiting steps (the durable `actions.poll` job is the fallback). */
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopping = false;
  private readonly extensions: FinishExtension[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: ActionsRepository,
    private readonly catalogue: ActionCatalogue,
    private readonly auditLog: AuditLogService,
    private readonly capabilities: TenantCapabilitiesService,
    private readonly jobs: JobsService,
    private readonly secrets: ActionSecrets,
    private readonly evidence: ActionEvidence,
  ) {}

  /** Adds to what the final statement of every action records (see FinishExtension). */
  extendFinish(extension: FinishExtension): void {
    this.extensions.push(extension);
  }

  private alsoOf(action: ActionEntity, final: ActionFinal): FinishAlso | undefined {
    const parts = this.extensions.map((e) => e.also(action, final)).filter((a): a is FinishAlso => a !== undefined);
    return parts.length ? (p) => parts.flatMap((a) => a(p)) : undefined;
  }

  /** Durable fallback: if this process dies before running the action, the job (on any replica) does. */
  async enqueueSafetyNet(manager: EntityManager | undefined, actionId: string): Promise<void> {
    await this.jobs.send(
      EXECUTE_QUEUE,
      { actionId },
      { startAfter: this.config.actionLeaseSeconds, singletonKey: actionId, retryLimit: 5, retryDelay: this.config.actionLeaseSeconds },
      manager,
    );
  }

  /**
   * Starts the action now in this process (the hot path); resolves when it has finished (with the
   * finished action, when this run finished it), handed a long-running step over to its wake-up job,
   * or another process has it. `dueAt` is given by the wake-up job of a waiting step (see
   * ActionsRepository.claim); `admitted`, by admission on the hot path.
   */
  execute(actionId: string, dueAt?: Date, admitted?: AdmittedAction): Promise<FinishedAction | undefined> {
    const existing = this.running.get(actionId);
    if (existing) return existing;
    const run = this.run(actionId, dueAt, admitted)
      .catch((error) => void this.logger.error({ err: error, actionId }, 'action execution stopped'))
      .finally(() => this.running.delete(actionId));
    this.running.set(actionId, run);
    return run;
  }

  /** Waits for every action this process is running (graceful shutdown). */
  async drain(): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([...this.running.values()]);
  }

  /**
   * Wakes the step at its due time in this process, to the millisecond (Defender pacing relies on it);
   * the `actions.poll` job scheduled with it does the same on any replica if this process is gone, and
   * whichever comes second finds nothing to do.
   */
  private wakeAt(actionId: string, dueAt: Date): void {
    if (this.stopping) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        void this.execute(actionId, dueAt);
      },
      Math.max(0, dueAt.getTime() - Date.now()),
    );
    timer.unref();
    this.timers.add(timer);
  }

  private async run(actionId: string, dueAt?: Date, admitted?: AdmittedAction): Promise<FinishedAction | undefined> {
    const lease = this.config.actionLeaseSeconds;
    let clientRequestId = admitted?.firstRequestId ?? randomUUID();
    const claimed = admitted ?? (await this.claim(actionId, dueAt));
    if (!claimed) return;
    const { action, steps, capabilities: caps } = claimed;
    const handler = this.catalogue.get(action.type);
    const target = action.target as unknown as ActionTarget;
    const definitions = handler.steps(action.params);
    const heartbeat = setInterval(() => void this.repository.renewLease(actionId, this.owner, lease).catch(() => undefined), (lease * 1000) / 3);
    heartbeat.unref();
    try {
      const todo = steps.filter((s) => s.status !== 'succeeded' && s.status !== 'skipped' && s.status !== 'failed');
      if (todo.length === 0) {
        // every outcome is recorded (a runner died before the final state): finish from the steps read
        const final = this.finalOf(action, steps);
        const recorded = await this.auditLog.appendWith([{ entry: actionAudit.finished(action, final), onlyIf: ACTION_FINISHED }], (insert) =>
          this.repository.recordFinish(action.id, this.owner, null, final, insert, this.alsoOf(action, final)),
        );
        return await this.finished(action, steps, final, recorded);
      }
      const contextOf = (step: ActionStepEntity, clientRequestId: string): StepContext => ({
        actionId,
        tenantId: action.tenantId,
        target,
        params: action.params,
        reason: action.reason,
        requestedBy: action.requestedBy,
        clientRequestId,
        capabilities: caps,
        attempt: Math.max(1, step.attempts),
        ...(step.state ? { state: step.state } : {}),
        ...(handler.secretParams ? { secrets: this.secrets.get(actionId) ?? {} } : {}),
      });
      // A step's start is recorded (if the action is still ours: not cancelled, not taken over after our
      // lease lapsed) before its Microsoft call; every later start is recorded in the same transaction as
      // the previous step's outcome, and the last outcome with the final state. Either way each entry is
      // committed before the next Microsoft call (write-ahead), with fewer commits. A long-running step
      // that was started already is run again with its state, not started again.
      const resuming = todo[0].status === 'running' && todo[0].state !== null;
      if (!admitted && !resuming) {
        // What the target looks like before anything changes, recorded with the first step's start.
        const snapshot =
          todo[0].position === 0
            ? await this.evidence.snapshotEntry(action, handler, { target, capabilities: caps, requestId: clientRequestId, again: todo[0].attempts > 0 })
            : null;
        if (!(await this.recordBoundary(action, null, { step: todo[0], clientRequestId }, snapshot))) return;
      }
      for (const [i, step] of todo.entries()) {
        const definition = definitions[step.position];
        const ctx = contextOf(step, i === 0 && resuming ? (step.microsoftRequestId ?? clientRequestId) : clientRequestId);
        const outcome = await this.runStep(definition, ctx);
        if (outcome.status === 'running') {
          await this.recordInProgress(action, step, outcome, definition);
          return;
        }
        const next = todo[i + 1];
        clientRequestId = randomUUID();
        if (!next) return await this.recordFinish(action, steps, step, outcome);
        if (!(await this.recordBoundary(action, { step, outcome }, { step: next, clientRequestId }))) return;
      }
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** Takes the action for execution and reads it, its steps and the tenant's capabilities (in parallel). */
  private async claim(actionId: string, dueAt?: Date): Promise<Omit<AdmittedAction, 'firstRequestId'> | null> {
    if (!(await this.repository.claim(actionId, this.owner, this.config.actionLeaseSeconds, dueAt))) return null;
    const found = this.repository.findById(actionId);
    const [action, steps, capabilities] = await Promise.all([
      found.then((a) => a!),
      this.repository.steps(actionId),
      found.then((a) => this.capabilityMap(a!.tenantId)),
    ]);
    return { action, steps, capabilities };
  }

  /** Runs a step and turns what it answers or throws into an outcome to record. */
  private async runStep(definition: StepDefinition, ctx: StepContext): Promise<StepOutcome | StepInProgress> {
    try {
      const result = await definition.run(ctx);
      if (result.status === 'running') return result;
      return {
        status: result.status,
        microsoftRequestId: result.microsoftRequestId ?? ctx.clientRequestId,
        detail: {
          summary: result.summary,
          ...(result.verified === undefined ? {} : { verified: result.verified }),
          ...(result.detail ?? {}),
          ...(result.result ? { result: result.result } : {}),
        },
        error: null,
      };
    } catch (error) {
      const stepError = error instanceof StepError ? error : new StepError('step-failed', error instanceof Error ? error.message : String(error));
      return { status: 'failed', microsoftRequestId: stepError.extra.microsoftRequestId ?? ctx.clientRequestId, detail: null, error: stepError.toJSON() };
    }
  }

  /**
   * A long-running step is under way, or waits for capacity: record what it said, let go of the action
   * (`queued` while it waits for capacity) and schedule its wake-up, in one transaction. The audit log
   * hears about it when its summary changes (submitted, Pending → InProgress), not on every poll.
   */
  private async recordInProgress(action: ActionEntity, step: ActionStepEntity, outcome: StepInProgress, definition: StepDefinition): Promise<void> {
    const dueAt = new Date(Date.now() + Math.max(0, outcome.pollAfterMs));
    const microsoftRequestId = outcome.microsoftRequestId ?? step.microsoftRequestId ?? undefined;
    const detail = {
      summary: outcome.summary,
      ...(outcome.waitingFor ? { waitingFor: outcome.waitingFor, until: dueAt.toISOString() } : {}),
      ...(outcome.detail ?? {}),
    };
    const answer = await this.repository.transaction(async (manager): Promise<'recorded' | 'cancelled' | 'lost'> => {
      if (!(await this.stillOurs(manager, action.id)))
        return (await this.repository.findById(action.id, manager))?.status === 'cancelled' ? 'cancelled' : 'lost';
      const before = (await this.repository.steps(action.id, manager)).find((s) => s.position === step.position);
      await this.repository.updateStep(manager, action.id, step.position, {
        status: 'running',
        ...(microsoftRequestId ? { microsoftRequestId } : {}),
        detail,
        state: outcome.state,
        nextPollAt: dueAt,
      });
      await this.repository.update(manager, action.id, { ...(outcome.waitingFor ? { status: 'queued' as const } : {}), leaseOwner: null, leaseUntil: null });
      await this.jobs.send(
        POLL_QUEUE,
        { actionId: action.id, dueAt: dueAt.toISOString() },
        { startAfter: dueAt, retryLimit: 5, retryDelay: this.config.actionLeaseSeconds },
        manager,
      );
      // Waiting for capacity changes nothing anywhere (the action shows it); what the step did at Microsoft is audited.
      if (!outcome.waitingFor && (before?.detail as { summary?: string } | null)?.summary !== outcome.summary) {
        await this.auditLog.append(manager, actionAudit.stepProgress(action, step, microsoftRequestId ?? action.id, detail));
      }
      return 'recorded';
    });
    if (answer === 'recorded') this.wakeAt(action.id, dueAt);
    // Cancelled while the step was starting its work: stop that work too, so nothing outlives the action.
    if (answer === 'cancelled' && definition.cancel) await this.cancelStartedWork(action, step, outcome.state, definition);
  }

  private async cancelStartedWork(action: ActionEntity, step: ActionStepEntity, state: Record<string, unknown>, definition: StepDefinition): Promise<void> {
    const current = await this.repository.findById(action.id);
    const ctx: StepContext = {
      actionId: action.id,
      tenantId: action.tenantId,
      target: action.target as unknown as ActionTarget,
      params: action.params,
      attempt: Math.max(1, step.attempts),
      reason: action.reason,
      requestedBy: action.requestedBy,
      clientRequestId: randomUUID(),
      capabilities: {},
      state,
    };
    const by = current?.decidedBy ?? ENGINE;
    const outcome = await definition.cancel!(ctx, current?.decisionReason ?? 'action cancelled', by).then(
      (r) => ({ event: 'action.step.cancelled' as const, data: { step: step.name, summary: r.summary, ...(r.detail ?? {}) } }),
      (e) => ({ event: 'action.step.cancel-failed' as const, data: { step: step.name, error: e instanceof StepError ? e.toJSON() : String(e) } }),
    );
    await this.auditLog.record(actionAudit.stepCancelled(action, ctx.clientRequestId, outcome));
  }

  /** Every capability of the tenant by name (status only), in one query. */
  private async capabilityMap(tenantId: string): Promise<Record<string, string>> {
    return statusNames(await this.capabilities.statusesOf(tenantId));
  }

  /** Cancelled, or taken over after our lease lapsed? Read inside the transaction that would record the next start. */
  private stillOurs(manager: EntityManager, actionId: string): Promise<boolean> {
    return this.repository.isRunningFor(manager, actionId, this.owner);
  }

  /**
   * A step boundary, in one statement: the finished step's outcome and the next step's start (if the
   * action is still ours: not cancelled, not taken over after our lease lapsed), each with its audit
   * entry, committed before the next Microsoft call. Keeps `steps` (the executor's view) up to date.
   * Answers whether the next step may run.
   */
  private async recordBoundary(
    action: ActionEntity,
    finished: { step: ActionStepEntity; outcome: StepOutcome } | null,
    next: { step: ActionStepEntity; clientRequestId: string },
    snapshot: AuditEntryInput | null = null,
  ): Promise<boolean> {
    const entries = [
      ...(finished ? [{ entry: actionAudit.stepFinished(action, finished.step, finished.outcome) }] : []),
      ...(snapshot ? [{ entry: snapshot, onlyIf: STEP_STARTED }] : []),
      { entry: actionAudit.stepStarted(action, next.step, next.clientRequestId), onlyIf: STEP_STARTED },
    ];
    const start = { position: next.step.position, attempts: next.step.attempts + 1, clientRequestId: next.clientRequestId };
    const { started, at } = await this.auditLog.appendWith(entries, (insert) =>
      this.repository.recordBoundary(action.id, this.owner, finished && this.finishOf(finished.step, finished.outcome), start, insert),
    );
    if (finished) this.apply(finished.step, finished.outcome, at);
    if (started) Object.assign(next.step, { status: 'running', attempts: start.attempts, microsoftRequestId: next.clientRequestId, startedAt: at });
    return started;
  }

  /** The last step's outcome and, if the action is still ours, its final state worked out from `steps`, in one statement. */
  private async recordFinish(
    action: ActionEntity,
    steps: ActionStepEntity[],
    step: ActionStepEntity,
    outcome: StepOutcome,
  ): Promise<FinishedAction | undefined> {
    const finish = this.finishOf(step, outcome);
    this.apply(step, outcome);
    const final = this.finalOf(action, steps);
    const entries = [{ entry: actionAudit.stepFinished(action, step, outcome) }, { entry: actionAudit.finished(action, final), onlyIf: ACTION_FINISHED }];
    const recorded = await this.auditLog.appendWith(entries, (insert) =>
      this.repository.recordFinish(action.id, this.owner, finish, final, insert, this.alsoOf(action, final)),
    );
    step.finishedAt = recorded.at;
    return this.finished(action, steps, final, recorded);
  }

  /** The action as the final statement left it, when it was this run that finished it (not cancelled, still ours). */
  private async finished(
    action: ActionEntity,
    steps: ActionStepEntity[],
    final: ActionFinal,
    recorded: Recorded<'finished'>,
  ): Promise<FinishedAction | undefined> {
    if (!recorded.finished) return undefined;
    this.secrets.forget(action.id);
    Object.assign(action, { ...final, completedAt: recorded.at, updatedAt: recorded.at, leaseOwner: null, leaseUntil: null });
    for (const extension of this.extensions)
      await extension.after(action).catch((error) => this.logger.warn({ err: error, actionId: action.id }, 'after-finish work failed; its sweep covers it'));
    return { action, steps };
  }

  private finishOf(step: ActionStepEntity, outcome: StepOutcome): StepFinish {
    return { position: step.position, status: outcome.status, microsoftRequestId: outcome.microsoftRequestId, detail: outcome.detail, error: outcome.error };
  }

  private apply(step: ActionStepEntity, outcome: StepOutcome, finishedAt?: Date): void {
    Object.assign(step, {
      status: outcome.status,
      microsoftRequestId: outcome.microsoftRequestId,
      detail: outcome.detail,
      error: outcome.error,
      nextPollAt: null,
      ...(finishedAt ? { finishedAt } : {}),
    });
  }

  /** succeeded: every step succeeded or was skipped, effects verified; failed: nothing succeeded; else partially. */
  private finalOf(action: ActionEntity, steps: ActionStepEntity[]): ActionFinal {
    const failed = steps.filter((s) => s.status === 'failed');
    const done = steps.filter((s) => s.status === 'succeeded');
    const unverified = done.filter((s) => (s.detail as { verified?: boolean } | null)?.verified === false);
    const status = failed.length === 0 && unverified.length === 0 ? 'succeeded' : done.length === 0 ? 'failed' : 'partially_succeeded';
    const handler = this.catalogue.get(action.type);
    const result = {
      summary: steps
        .map((s) => `${s.name}: ${s.status}${(s.detail as { summary?: string } | null)?.summary ? ` (${(s.detail as { summary: string }).summary})` : ''}`)
        .join('; '),
      ...(unverified.length ? { unverified: unverified.map((s) => s.name) } : {}),
      ...(handler.notes?.length ? { notes: handler.notes } : {}),
      ...Object.assign({}, ...done.map((s) => (s.detail as { result?: Record<string, unknown> } | null)?.result ?? {})),
    };
    const error = failed.length
      ? {
          code: (failed[0].error as { code?: string } | null)?.code ?? 'step-failed',
          message: `step ${failed[0].name} failed: ${(failed[0].error as { message?: string } | null)?.message ?? ''}`.trim(),
        }
      : null;
    return { status, result, error };
  }
}
