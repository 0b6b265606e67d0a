import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { AuditLogService } from '../audit-log/audit-log.service';
import { TenantCapabilitiesService } from '../tenants/tenant-capabilities.service';
import { ActionTarget, StepContext, StepError } from './action-handler';
import { ActionCatalogue } from './action-catalogue';
import { ActionEntity, ActionStepEntity, FINAL_STATUSES } from './action.entity';
import { ActionsRepository } from './actions.repository';

const SYSTEM = { type: 'system' as const, id: 'actions-engine', name: 'actions engine' };

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
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: ActionsRepository,
    private readonly catalogue: ActionCatalogue,
    private readonly auditLog: AuditLogService,
    private readonly capabilities: TenantCapabilitiesService,
  ) {}

  /** Starts the action now in this process (the hot path); resolves when it has finished or another process has it. */
  execute(actionId: string): Promise<void> {
    const existing = this.running.get(actionId);
    if (existing) return existing;
    const run = this.run(actionId)
      .catch((error) => this.logger.error({ err: error, actionId }, 'action execution stopped'))
      .finally(() => this.running.delete(actionId));
    this.running.set(actionId, run);
    return run;
  }

  /** Waits for every action this process is running (graceful shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.running.values()]);
  }

  private async run(actionId: string): Promise<void> {
    const lease = this.config.actionLeaseSeconds;
    if (!(await this.repository.claim(actionId, this.owner, lease))) return;
    const action = (await this.repository.findById(actionId))!;
    const handler = this.catalogue.get(action.type);
    const steps = await this.repository.steps(actionId);
    const caps = await this.capabilityMap(action.tenantId);
    const target = action.target as unknown as ActionTarget;
    const definitions = handler.steps(action.params);
    const heartbeat = setInterval(() => void this.repository.renewLease(actionId, this.owner, lease).catch(() => undefined), (lease * 1000) / 3);
    heartbeat.unref();
    try {
      for (const step of steps) {
        if (step.status === 'succeeded' || step.status === 'skipped' || step.status === 'failed') continue;
        const definition = definitions[step.position];
        const ctx: StepContext = {
          actionId,
          tenantId: action.tenantId,
          target,
          params: action.params,
          reason: action.reason,
          requestedBy: action.requestedBy,
          clientRequestId: randomUUID(),
          capabilities: caps,
        };
        if (!(await this.stillOurs(actionId))) return; // cancelled, or taken over after our lease lapsed
        await this.recordStart(action, step, ctx.clientRequestId);
        try {
          const outcome = await definition.run(ctx);
          await this.recordOutcome(action, step, {
            status: outcome.status,
            microsoftRequestId: outcome.microsoftRequestId ?? ctx.clientRequestId,
            detail: { summary: outcome.summary, ...(outcome.verified === undefined ? {} : { verified: outcome.verified }), ...(outcome.detail ?? {}) },
            error: null,
          });
        } catch (error) {
          const stepError = error instanceof StepError ? error : new StepError('step-failed', error instanceof Error ? error.message : String(error));
          await this.recordOutcome(action, step, { status: 'failed', microsoftRequestId: stepError.extra.microsoftRequestId ?? ctx.clientRequestId, detail: null, error: stepError.toJSON() });
        }
      }
      await this.finish(action);
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async capabilityMap(tenantId: string): Promise<Record<string, string>> {
    const map: Record<string, string> = {};
    for (const name of ['identity-protection', 'user-actions', 'defender-actions']) {
      const status = await this.capabilities.statusOf(tenantId, name);
      if (status) map[name] = status.status;
    }
    return map;
  }

  private async stillOurs(actionId: string): Promise<boolean> {
    const current = await this.repository.findById(actionId);
    return current?.status === 'running' && current.leaseOwner === this.owner;
  }

  private recordStart(action: ActionEntity, step: ActionStepEntity, clientRequestId: string): Promise<void> {
    return this.repository.transaction(async (manager) => {
      await this.repository.updateStep(manager, action.id, step.position, { status: 'running', attempts: step.attempts + 1, startedAt: new Date(), microsoftRequestId: clientRequestId });
      await this.auditLog.append(manager, {
        event: 'action.step.started',
        actor: SYSTEM,
        tenantId: action.tenantId,
        actionId: action.id,
        subject: `${action.type}:${(action.target as { display?: string }).display ?? action.targetKey}`,
        requestId: clientRequestId,
        data: { step: step.name, position: step.position, attempt: step.attempts + 1, clientRequestId },
      });
    });
  }

  private recordOutcome(action: ActionEntity, step: ActionStepEntity, outcome: { status: 'succeeded' | 'skipped' | 'failed'; microsoftRequestId: string; detail: Record<string, unknown> | null; error: Record<string, unknown> | null }): Promise<void> {
    return this.repository.transaction(async (manager) => {
      await this.repository.updateStep(manager, action.id, step.position, { status: outcome.status, finishedAt: new Date(), microsoftRequestId: outcome.microsoftRequestId, detail: outcome.detail, error: outcome.error });
      await this.auditLog.append(manager, {
        event: `action.step.${outcome.status}`,
        actor: SYSTEM,
        tenantId: action.tenantId,
        actionId: action.id,
        subject: `${action.type}:${(action.target as { display?: string }).display ?? action.targetKey}`,
        requestId: outcome.microsoftRequestId,
        data: { step: step.name, position: step.position, microsoftRequestId: outcome.microsoftRequestId, ...(outcome.detail ? { detail: outcome.detail } : {}), ...(outcome.error ? { error: outcome.error } : {}) },
      });
    });
  }

  /** succeeded: every step succeeded or was skipped, effects verified; failed: nothing succeeded; else partially. */
  private async finish(action: ActionEntity): Promise<void> {
    await this.repository.transaction(async (manager) => {
      const current = await this.repository.lock(manager, action.id);
      if (!current || FINAL_STATUSES.includes(current.status) || current.leaseOwner !== this.owner) return;
      const steps = await this.repository.steps(action.id, manager);
      const failed = steps.filter((s) => s.status === 'failed');
      const done = steps.filter((s) => s.status === 'succeeded');
      const unverified = done.filter((s) => (s.detail as { verified?: boolean } | null)?.verified === false);
      const status = failed.length === 0 && unverified.length === 0 ? 'succeeded' : done.length === 0 ? 'failed' : 'partially_succeeded';
      const handler = this.catalogue.get(action.type);
      const result = {
        summary: steps.map((s) => `${s.name}: ${s.status}${(s.detail as { summary?: string } | null)?.summary ? ` (${(s.detail as { summary: string }).summary})` : ''}`).join('; '),
        ...(unverified.length ? { unverified: unverified.map((s) => s.name) } : {}),
        ...(handler.notes?.length ? { notes: handler.notes } : {}),
      };
      const error = failed.length ? { code: (failed[0].error as { code?: string } | null)?.code ?? 'step-failed', message: `step ${failed[0].name} failed: ${(failed[0].error as { message?: string } | null)?.message ?? ''}`.trim() } : null;
      await this.repository.update(manager, action.id, { status, result, error, completedAt: new Date(), leaseOwner: null, leaseUntil: null });
      await this.auditLog.append(manager, {
        event: `action.${status}`,
        actor: SYSTEM,
        tenantId: action.tenantId,
        actionId: action.id,
        subject: `${action.type}:${(action.target as { display?: string }).display ?? action.targetKey}`,
        requestId: action.id,
        data: { status, result, ...(error ? { error } : {}) },
      });
    });
  }
}
