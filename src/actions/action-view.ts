import type { ActionEntity, ActionStepEntity } from './action.entity';
import type { ActionResponse } from './dto/action.dto';

/** `release`: the action's automatic release (time-boxed containment), when it has one (see releaseView). */
export function toActionResponse(action: ActionEntity, steps: ActionStepEntity[], release?: Record<string, unknown>): ActionResponse {
  return {
    id: action.id,
    type: action.type,
    tenantId: action.tenantId,
    target: action.target,
    status: action.status,
    steps: steps.map((s) => ({
      name: s.name,
      status: s.status,
      startedAt: s.startedAt?.toISOString() ?? null,
      finishedAt: s.finishedAt?.toISOString() ?? null,
      attempts: s.attempts,
      ...(s.microsoftRequestId ? { microsoftRequestId: s.microsoftRequestId } : {}),
      ...(s.detail ? { detail: s.detail } : {}),
      ...(s.error ? { error: s.error } : {}),
    })),
    reason: action.reason,
    ticket: action.ticket,
    dryRun: action.dryRun,
    requestedBy: action.requestedBy,
    ...(action.approvedBy ? { approvedBy: action.approvedBy } : {}),
    ...(action.decidedBy ? { decidedBy: action.decidedBy } : {}),
    ...(action.decisionReason ? { decisionReason: action.decisionReason } : {}),
    createdAt: action.createdAt.toISOString(),
    updatedAt: action.updatedAt.toISOString(),
    ...(action.completedAt ? { completedAt: action.completedAt.toISOString() } : {}),
    ...(action.result ? { result: action.result } : {}),
    ...(action.error ? { error: action.error } : {}),
    ...(typeof action.params?.releaseOf === 'string' ? { releaseOf: action.params.releaseOf } : {}),
    ...(release ? { release } : {}),
  };
}

/**
 * What admitting or approving an action answers, in the engine's terms (the route makes it 200 or 202
 * with `Location`): `planned` for a dry run, `finished` when `Prefer: wait` saw it end, `accepted`
 * otherwise (under way, waiting for approval, or refused a target that does not exist).
 */
export interface ActionAnswer {
  action: ActionResponse;
  outcome: 'accepted' | 'finished' | 'planned';
}
