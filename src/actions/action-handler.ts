/**
 * What an integration module contributes to the actions engine: a handler per action type. The engine
 * owns lifecycle, audit, idempotency, policy and execution; handlers own the Microsoft calls. The
 * engine never imports Microsoft code — handlers turn Microsoft's answers into StepError codes.
 */

export interface ActionTarget {
  /** What the caller asked for (`alice@contoso.com`, an object id, a device name). */
  requested: string;
  /** The resolved object id at Microsoft. */
  id: string;
  /** A human name for it (UPN, DNS name). */
  display: string;
  /** Ids and names policy checks compare against protected lists (lower-case). */
  identities: string[];
  /** Group object ids the target belongs to (for protected groups), lower-case. */
  groups: string[];
  /** Labels policy checks compare against protected tags (a device's machine tags), lower-case. */
  tags?: string[];
  /** Anything else worth recording about the resolution. */
  details?: Record<string, unknown>;
}

export interface StepContext {
  actionId: string;
  tenantId: string;
  target: ActionTarget;
  params: Record<string, unknown>;
  reason: string;
  requestedBy: { type: string; id: string; name: string };
  /** A GUID to send as Microsoft's client request id for this step (recorded with the step). */
  clientRequestId: string;
  /** Capability statuses of the tenant, e.g. { 'identity-protection': 'unlicensed' }. */
  capabilities: Record<string, string>;
  /** What a long-running step carried from its previous run (its `state`); undefined on the first run. */
  state?: Record<string, unknown>;
  /**
   * How many times this step has been started, this run included (1 the first time). More than 1 without
   * `state` means an earlier run may have sent its Microsoft call and died before recording the answer:
   * the step looks for what that call did before sending it again.
   */
  attempt: number;
  /** The request's secret parameters (`ActionHandler.secretParams`), when this process still holds them. */
  secrets?: Record<string, string>;
}

export interface StepOutcome {
  status: 'succeeded' | 'skipped';
  /** What happened, for people: "disabled sign-in", "already disabled", "skipped: no Entra ID P2". */
  summary: string;
  /** Read back after the change: true when the effect is visible, false when it is not (reported). */
  verified?: boolean;
  microsoftRequestId?: string;
  detail?: Record<string, unknown>;
  /** Merged into the action's result (e.g. a download link the step obtained). */
  result?: Record<string, unknown>;
}

/**
 * A step whose work finishes later: it started something at Microsoft (a Defender machine action), or
 * it waits for its turn to call an API with limited capacity (`waitingFor: 'capacity'`). The engine
 * records it, lets go of the action (back to `queued` while it waits for capacity, `running` otherwise)
 * and runs the step again with `state` after `pollAfterMs`, from a durable job, so it survives
 * restarts. The step stays `running` until it answers a final outcome.
 */
export interface StepInProgress {
  status: 'running';
  summary: string;
  pollAfterMs: number;
  state: Record<string, unknown>;
  waitingFor?: 'capacity';
  microsoftRequestId?: string;
  detail?: Record<string, unknown>;
}

export interface StepPreview {
  /** What running the step would change now, from the current state ("accountEnabled true → false"). */
  wouldChange: string;
  /** False when the step would do nothing (already in the wanted state) or would be skipped. */
  changes: boolean;
}

export interface StepDefinition {
  name: string;
  /** Reads the current state first; doing the step again after a crash must be harmless. */
  run(ctx: StepContext): Promise<StepOutcome | StepInProgress>;
  preview(ctx: StepContext): Promise<StepPreview>;
  /** Stops the work a running step started at Microsoft (POST /v1/actions/{id}/cancel); throws StepError when it cannot. */
  cancel?(
    ctx: StepContext,
    reason: string,
    cancelledBy: { type: string; id: string; name: string },
  ): Promise<{ summary: string; detail?: Record<string, unknown> }>;
}

export interface ActionHandler {
  type: string;
  /**
   * The target kind in the route: a user, a device, an enterprise app (service principal), a Defender
   * XDR alert or incident, or a Defender for Endpoint custom indicator. Protected-target policy applies to users (protected users and groups) and
   * devices (protected devices and tags); an app handler refuses its own protected apps when it resolves.
   */
  targetKind: 'user' | 'device' | 'app' | 'alert' | 'incident' | 'email' | 'indicator';
  /** Capabilities that must be `available` for the action at all. */
  requiredCapabilities: string[];
  /**
   * Resolves what the caller named; throws StepError('target-not-found') when Microsoft has no such thing,
   * or a Problem to refuse the request as worded (the action's parameters against the tenant policy).
   */
  resolve(tenantId: string, requested: string, params: Record<string, unknown>): Promise<ActionTarget>;
  steps(params: Record<string, unknown>): StepDefinition[];
  /** Plain words the result carries (e.g. what revoking sessions does not do). */
  notes?: string[];
  /**
   * Body fields that are secrets (a password to set): never stored with the action, audited, logged or
   * answered; the steps get them in `StepContext.secrets` (ActionSecrets), and the parameters record only
   * `<name>Given: true`.
   */
  secretParams?: string[];
  /**
   * False: no evidence snapshot before the first step (EvidenceSnapshots), e.g. for an action that only
   * reads or that undoes Cordon's own change. By default every action whose target kind has snapshot
   * reads gets one.
   */
  snapshot?: false;
  /**
   * The action type that undoes this one (user.disable → user.enable): the type is a containment, its
   * route takes `releaseAfter` / `releaseAt`, and the engine runs the inverse when that time comes
   * (src/actions/releases). `check` reads the containment back at Microsoft for the daily drift check,
   * where a cheap read exists.
   */
  release?: ReleaseDeclaration;
  /**
   * When set, the action waits for a second responder's approval even when a responder asks for it, unless
   * this answers false for the tenant policy in force (a policy setting that relaxes it).
   */
  alwaysNeedsApproval?: (policy: Readonly<Record<string, unknown>>) => boolean;
}

/** What a containment check found at Microsoft: whether the containment still holds, in plain words. */
export interface ContainmentCheck {
  /** null: the read could not tell (nothing listed either way). */
  holds: boolean | null;
  found: string;
  detail?: Record<string, unknown>;
}

export interface ReleaseDeclaration {
  type: string;
  check?(tenantId: string, target: ActionTarget, containedAt: Date): Promise<ContainmentCheck>;
}

/** A precise failure of a step (or of target resolution): a stable code plus Microsoft's own words. */
export class StepError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly extra: { microsoftCode?: string; microsoftRequestId?: string; status?: number; retryable?: boolean } = {},
  ) {
    super(message);
    this.name = 'StepError';
  }

  toJSON() {
    return { code: this.code, message: this.message, ...this.extra };
  }
}

export const ACTION_HANDLERS = Symbol('ACTION_HANDLERS');
