import type { AuditActor, AuditContext, AuditEntryInput } from '../audit-log/audit-entry';
import type { ActionTarget, StepError } from './action-handler';
import { evidenceSha256, type HashedSnapshotItem } from './evidence/evidence-snapshots';
import type { ActionEntity, ActionStepEntity } from './action.entity';
import type { ActionFinal, NewAction } from './actions.repository';

/**
 * Every audit entry of an action, built in one place (ARCHITECTURE.md §7.1): who acted, the tenant,
 * the action, its subject `type:target` and the request id that ties the entry to the logs.
 * Admission and decisions name the target by its key (as requested, lower case) or, once resolved,
 * by its display name; the engine's own entries use the display name when there is one.
 */

/** The engine itself: steps, outcomes, failed resolutions. */
export const ENGINE: AuditActor = { type: 'system', id: 'actions-engine', name: 'actions engine' };
/** Refusals are the policy's (capabilities, protected targets, hourly caps). */
export const POLICY: AuditActor = { type: 'system', id: 'policy', name: 'Cordon policy' };

type Audited = Pick<ActionEntity, 'id' | 'tenantId' | 'type'>;

function entry(action: Audited, event: string, actor: AuditActor, target: string, requestId: string, data: Record<string, unknown>): AuditEntryInput {
  return { event, actor, tenantId: action.tenantId, actionId: action.id, subject: `${action.type}:${target}`, requestId, data };
}

/** The engine's subject: the resolved display name, else the target key. */
const displayed = (action: Pick<ActionEntity, 'target' | 'targetKey'>) => (action.target as { display?: string }).display ?? action.targetKey;

export const actionAudit = {
  /** The request, before anything is asked of Microsoft. */
  requested(action: NewAction & { target: { requested: string } }, context: AuditContext): AuditEntryInput {
    const { requested } = action.target;
    return entry(action, 'action.requested', context.actor, requested, context.requestId, {
      type: action.type,
      target: requested,
      reason: action.reason,
      ticket: action.ticket,
      dryRun: action.dryRun,
      params: action.params,
    });
  },

  /** Admitted to run now, or to wait for approval (with why). */
  accepted(action: Audited, target: ActionTarget, steps: string[], context: AuditContext, approvalWhy: string | null): AuditEntryInput {
    const data = { target: { id: target.id, display: target.display, ...(target.details ?? {}) }, steps, ...(approvalWhy ? { why: approvalWhy } : {}) };
    return entry(action, approvalWhy ? 'action.awaiting-approval' : 'action.accepted', context.actor, target.display, context.requestId, data);
  },

  refused(action: Audited & Pick<ActionEntity, 'targetKey'>, requestId: string, refusal: { slug: string; detail?: string }): AuditEntryInput {
    return entry(action, 'action.refused', POLICY, action.targetKey, requestId, { code: refusal.slug, detail: refusal.detail });
  },

  resolutionFailed(action: Audited & Pick<ActionEntity, 'targetKey'>, requestId: string, error: StepError): AuditEntryInput {
    return entry(action, 'action.failed', ENGINE, action.targetKey, requestId, { error: error.toJSON() });
  },

  /** A recorded request whose admission stopped with its process, and that no retry carried on with. */
  admissionInterrupted(action: Audited & Pick<ActionEntity, 'targetKey'>, error: Record<string, unknown>): AuditEntryInput {
    return entry(action, 'action.failed', ENGINE, action.targetKey, action.id, { error });
  },

  dryRun(action: Audited & Pick<ActionEntity, 'requestedBy'>, target: ActionTarget, requestId: string, result: Record<string, unknown>): AuditEntryInput {
    return entry(action, 'action.dry-run', action.requestedBy, target.display, requestId, result);
  },

  decided(
    action: Audited & Pick<ActionEntity, 'targetKey'>,
    decision: 'approve' | 'reject',
    context: AuditContext,
    reason: string | undefined,
  ): AuditEntryInput {
    return entry(action, decision === 'approve' ? 'action.approved' : 'action.rejected', context.actor, action.targetKey, context.requestId, {
      reason: reason ?? null,
    });
  },

  cancelRequested(action: Audited & Pick<ActionEntity, 'targetKey'>, step: string, context: AuditContext, reason: string | undefined): AuditEntryInput {
    return entry(action, 'action.cancel-requested', context.actor, action.targetKey, context.requestId, { step, reason: reason ?? null });
  },

  cancelled(
    action: Audited & Pick<ActionEntity, 'targetKey' | 'status'>,
    context: AuditContext,
    reason: string | undefined,
    data: Record<string, unknown>,
  ): AuditEntryInput {
    return entry(action, 'action.cancelled', context.actor, action.targetKey, context.requestId, { from: action.status, reason: reason ?? null, ...data });
  },

  cancelFailed(action: Audited & Pick<ActionEntity, 'targetKey'>, step: string, context: AuditContext, error: StepError): AuditEntryInput {
    return entry(action, 'action.cancel-failed', context.actor, action.targetKey, context.requestId, { step, error: error.toJSON() });
  },

  /** A step's start, committed before its Microsoft call (the write-ahead rule, ARCHITECTURE.md §5.4). */
  stepStarted(action: ActionEntity, step: ActionStepEntity, clientRequestId: string): AuditEntryInput {
    return entry(action, 'action.step.started', ENGINE, displayed(action), clientRequestId, {
      step: step.name,
      position: step.position,
      attempt: step.attempts + 1,
      clientRequestId,
    });
  },

  stepFinished(
    action: ActionEntity,
    step: ActionStepEntity,
    outcome: { status: string; microsoftRequestId: string; detail: Record<string, unknown> | null; error: Record<string, unknown> | null },
  ): AuditEntryInput {
    const data = {
      step: step.name,
      position: step.position,
      microsoftRequestId: outcome.microsoftRequestId,
      // The step's evidence is its detail; its hash is what GET /v1/actions/{id}/evidence shows next to it.
      ...(outcome.detail ? { detail: outcome.detail, evidenceSha256: evidenceSha256(outcome.detail) } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
    };
    return entry(action, `action.step.${outcome.status}`, ENGINE, displayed(action), outcome.microsoftRequestId, data);
  },

  /**
   * What the target looked like before the first step changed anything (ARCHITECTURE.md §5.7): every item
   * with its content and SHA-256, so the verified chain proves the evidence unaltered.
   */
  snapshot(action: ActionEntity, requestId: string, items: HashedSnapshotItem[]): AuditEntryInput {
    return entry(action, 'action.snapshot', ENGINE, displayed(action), requestId, { items });
  },

  /** What a long-running step did at Microsoft meanwhile. */
  stepProgress(action: ActionEntity, step: ActionStepEntity, requestId: string, detail: Record<string, unknown>): AuditEntryInput {
    return entry(action, 'action.step.progress', ENGINE, displayed(action), requestId, { step: step.name, position: step.position, detail });
  },

  /** Work a step had started at Microsoft, stopped (or not) because the action was cancelled meanwhile. */
  stepCancelled(
    action: ActionEntity,
    requestId: string,
    outcome: { event: 'action.step.cancelled' | 'action.step.cancel-failed'; data: Record<string, unknown> },
  ): AuditEntryInput {
    return entry(action, outcome.event, ENGINE, displayed(action), requestId, outcome.data);
  },

  finished(action: ActionEntity, final: ActionFinal): AuditEntryInput {
    return entry(action, `action.${final.status}`, ENGINE, displayed(action), action.id, {
      status: final.status,
      result: final.result,
      ...(final.error ? { error: final.error } : {}),
    });
  },
};
