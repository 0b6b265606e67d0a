import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import {
  ActionHandler,
  ActionTarget,
  ContainmentCheck,
  StepContext,
  StepDefinition,
  StepError,
  StepInProgress,
  StepOutcome,
} from '../../actions/action-handler';
import { ActionCatalogue } from '../../actions/action-catalogue';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { MicrosoftApiError } from '../../microsoft';
import { DefenderClient, odataString } from './defender-client';
import { DefenderPacer } from './defender-pacer';
import { toDefenderStepError } from './defender-step-errors';
import type { MachineAction } from './defender-types';
import { DeviceResolver } from './device-resolver';
import { Problem } from '../../common/problem';
import { TenantPoliciesService } from '../../tenants/tenant-policies.service';
import { commandErrors, liveResponseBody, LiveResponseResults, type LiveResponseParams } from './live-response';
import { defenderComment, machineActionBody, type ActionParams } from './machine-action-body';
import { MachineActionReader } from './machine-action-reader';

/** One device action type: its Defender API (microsoft-notes §5.3 table) and the machine action it creates. */
interface DeviceActionSpec {
  type: string;
  step: string;
  /** The last path segment of `POST /api/machines/{id}/<path>`; also the API's rate-limit bucket. */
  path: string;
  machineActionType: string;
  /** The machine action type this one undoes (isolate ↔ release): reported when pending, never overridden. */
  opposite?: string;
  /** The Cordon action type that undoes this containment (time-boxed containment, src/actions/releases). */
  releasedBy?: string;
  permission: string;
  done: string;
  /** The capability the action needs (default `defender-actions`). */
  capability?: string;
  /** Live response: the one command the session runs (microsoft-notes M50). */
  liveResponse?: 'GetFile' | 'RunScript';
}

const SPECS: DeviceActionSpec[] = [
  {
    type: 'device.isolate',
    step: 'isolate',
    path: 'isolate',
    machineActionType: 'Isolate',
    opposite: 'Unisolate',
    releasedBy: 'device.release',
    permission: 'Machine.Isolate',
    done: 'device isolated',
  },
  {
    type: 'device.release',
    step: 'release',
    path: 'unisolate',
    machineActionType: 'Unisolate',
    opposite: 'Isolate',
    permission: 'Machine.Isolate',
    done: 'device released from isolation',
  },
  {
    type: 'device.antivirus-scan',
    step: 'antivirus-scan',
    path: 'runAntiVirusScan',
    machineActionType: 'RunAntiVirusScan',
    permission: 'Machine.Scan',
    done: 'antivirus scan completed',
  },
  {
    type: 'device.restrict-app-execution',
    step: 'restrict-app-execution',
    path: 'restrictCodeExecution',
    machineActionType: 'RestrictCodeExecution',
    opposite: 'UnrestrictCodeExecution',
    releasedBy: 'device.unrestrict-app-execution',
    permission: 'Machine.RestrictExecution',
    done: 'app execution restricted',
  },
  {
    type: 'device.unrestrict-app-execution',
    step: 'unrestrict-app-execution',
    path: 'unrestrictCodeExecution',
    machineActionType: 'UnrestrictCodeExecution',
    opposite: 'RestrictCodeExecution',
    permission: 'Machine.RestrictExecution',
    done: 'app execution restriction removed',
  },
  {
    type: 'device.collect-investigation-package',
    step: 'collect-investigation-package',
    path: 'collectInvestigationPackage',
    machineActionType: 'CollectInvestigationPackage',
    permission: 'Machine.CollectForensics',
    done: 'investigation package collected',
  },
  {
    type: 'device.stop-and-quarantine-file',
    step: 'stop-and-quarantine-file',
    path: 'StopAndQuarantineFile',
    machineActionType: 'StopAndQuarantineFile',
    permission: 'Machine.StopAndQuarantine',
    done: 'file stopped and quarantined',
  },
  {
    type: 'device.collect-file',
    step: 'collect-file',
    path: 'runliveresponse',
    machineActionType: 'LiveResponse',
    permission: 'Machine.LiveResponse',
    done: 'file collected',
    capability: 'live-response',
    liveResponse: 'GetFile',
  },
  {
    type: 'device.run-script',
    step: 'run-script',
    path: 'runliveresponse',
    machineActionType: 'LiveResponse',
    permission: 'Machine.LiveResponse',
    done: 'script ran',
    capability: 'live-response',
    liveResponse: 'RunScript',
  },
];

/** The file a quarantine names (lower-case SHA-1), or undefined for the other actions. */
const fileOf = (params: ActionParams) => params.sha1?.toLowerCase();

/**
 * Whether a machine action Defender lists is one of this spec's, on the same file for a quarantine
 * (Defender conflicts quarantines per file, microsoft-notes M48).
 */
function sameAction(spec: DeviceActionSpec, action: MachineAction, params: ActionParams): boolean {
  if (action.type !== spec.machineActionType) return false;
  const file = fileOf(params);
  return file === undefined || (action.relatedFileInfo?.fileIdentifier ?? '').toLowerCase() === file;
}

/** What a device action's step carries between runs. */
interface MachineActionState {
  /** The booked call slot (ISO), while waiting for capacity. */
  slotAt?: string;
  machineActionId?: string;
  adopted?: boolean;
  polls?: number;
}

/**
 * A parked action wakes this long (ms) before its slot and sleeps the rest in place: its wake-up work
 * (claim, reads) then never makes it late for the slot. Waits up to this long are slept through.
 */
const WAKE_EARLY_MS = 500;

const describeAction = (a: MachineAction) =>
  `${a.type} machine action ${a.id} (requested by ${a.requestor ?? 'unknown'} at ${a.creationDateTimeUtc ?? '?'}, status ${a.status}${a.requestorComment ? `, comment "${a.requestorComment}"` : ''})`;

/**
 * Defender for Endpoint device containment: the handlers of the device.* action types. Each has one
 * long-running step: it books a call slot (DefenderPacer), creates the machine action with a comment
 * that names the Cordon action, requester and reason, then tracks it until Defender reports it final.
 */
@Injectable()
export class DeviceActions implements OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly catalogue: ActionCatalogue,
    private readonly resolver: DeviceResolver,
    private readonly client: DefenderClient,
    private readonly reader: MachineActionReader,
    private readonly pacer: DefenderPacer,
    private readonly policies: TenantPoliciesService,
    private readonly results: LiveResponseResults,
  ) {}

  onModuleInit(): void {
    for (const spec of SPECS) {
      const step = this.machineActionStep(spec);
      const runScript = spec.liveResponse === 'RunScript';
      const handler: ActionHandler = {
        type: spec.type,
        targetKind: 'device',
        requiredCapabilities: [spec.capability ?? 'defender-actions'],
        resolve: async (tenantId, requested, params) => {
          if (runScript) await this.allowScript(tenantId, (params as LiveResponseParams).script ?? '');
          return this.resolver.resolve(tenantId, requested);
        },
        steps: () => [step],
        ...(spec.releasedBy
          ? { release: { type: spec.releasedBy, check: (tenantId: string, target: ActionTarget) => this.stillContained(spec, tenantId, target) } }
          : {}),
        // Running a script waits for a second responder unless the tenant policy relaxes it (runScriptApproval: policy).
        ...(runScript ? { alwaysNeedsApproval: (policy: Readonly<Record<string, unknown>>) => policy.runScriptApproval !== 'policy' } : {}),
        ...(spec.liveResponse
          ? { notes: ['Live response runs one session per device: a session someone else started makes this action fail, never wait.'] }
          : {}),
      };
      this.catalogue.register(handler);
    }
  }

  /** run-script runs only scripts the tenant policy lists (liveResponseScripts), compared case-insensitively. */
  private async allowScript(tenantId: string, script: string): Promise<void> {
    const allowed = (await this.policies.policyOf(tenantId)).liveResponseScripts;
    if (allowed.some((s) => s.toLowerCase() === script.toLowerCase())) return;
    throw new Problem(
      409,
      'live-response-script-not-allowed',
      'Script not allowed',
      allowed.length
        ? `The tenant policy's liveResponseScripts does not list ${script} (it lists ${allowed.join(', ')}).`
        : `The tenant policy's liveResponseScripts is empty: no script may run. An admin lists the allowed library scripts there (PUT /v1/tenants/{id}/policy).`,
      { script, setting: 'liveResponseScripts' },
    );
  }

  private machineActionStep(spec: DeviceActionSpec): StepDefinition {
    return {
      name: spec.step,
      preview: async (ctx) => ({
        wouldChange: `Defender ${spec.liveResponse ? 'live response session' : 'machine action'} ${spec.machineActionType}${this.scope(spec, ctx) ? ` (${this.scope(spec, ctx)})` : ''} on ${ctx.target.display}`,
        changes: true,
      }),
      run: async (ctx) => {
        const state = (ctx.state ?? {}) as MachineActionState;
        try {
          if (state.machineActionId) return await this.track(spec, ctx, state);
          // A second start, or a wake-up after waiting for capacity (an earlier wake may have sent it), looks first.
          const earlier = ctx.attempt > 1 || state.slotAt ? await this.earlierSubmission(spec, ctx) : undefined;
          if (earlier) return earlier;
          return (await this.waitForTurn(spec, ctx, state)) ?? (await this.submit(spec, ctx));
        } catch (error) {
          throw toDefenderStepError(error, spec.permission);
        }
      },
      cancel: async (ctx, reason, by) => {
        const state = (ctx.state ?? {}) as MachineActionState;
        if (!state.machineActionId) return { summary: 'nothing was pending at Defender yet' };
        try {
          const { body } = await this.client.cancel(
            ctx.tenantId,
            state.machineActionId,
            `Cordon action ${ctx.actionId} cancelled by ${by.name} (${by.type} ${by.id}): ${reason}`,
          );
          return { summary: `Defender cancelled machine action ${body.id}`, detail: { machineActionId: body.id, machineActionStatus: body.status } };
        } catch (error) {
          if (error instanceof MicrosoftApiError && error.kind === 'bad-request') {
            throw new StepError('not-cancellable', `Defender would not cancel machine action ${state.machineActionId}: ${error.message}`, {
              microsoftCode: error.code,
              microsoftRequestId: error.requestId,
              status: error.status,
            });
          }
          throw toDefenderStepError(error, spec.permission);
        }
      },
    };
  }

  /**
   * The drift check of a device containment: the newest machine action of this type or its opposite that
   * succeeded on the device (one `GET /api/machineactions` with a `$filter`, newest first, the read the
   * steps use). The opposite one (an Unisolate from the portal) means the containment was undone.
   */
  private async stillContained(spec: DeviceActionSpec, tenantId: string, target: ActionTarget): Promise<ContainmentCheck> {
    try {
      const listed = await this.client.actions(
        tenantId,
        `machineId eq ${odataString(target.id)} and (type eq ${odataString(spec.machineActionType)} or type eq ${odataString(spec.opposite!)})`,
      );
      const last = listed.find((a) => a.status === 'Succeeded' && (a.type === spec.machineActionType || a.type === spec.opposite));
      if (!last) return { holds: null, found: `Defender lists no completed ${spec.machineActionType} or ${spec.opposite} machine action on the device` };
      return {
        holds: last.type === spec.machineActionType,
        found: `the newest completed one is the ${describeAction(last)}`,
        detail: { machineActionId: last.id },
      };
    } catch (error) {
      throw toDefenderStepError(error, spec.permission);
    }
  }

  private scope(spec: DeviceActionSpec, ctx: StepContext): string | undefined {
    const params = ctx.params as ActionParams;
    if (spec.path === 'isolate') return params.isolationType ?? 'Full';
    if (spec.path === 'runAntiVirusScan') return params.scanType ?? 'Quick';
    if (spec.path === 'StopAndQuarantineFile') return `SHA-1 ${fileOf(params)}`;
    const live = ctx.params as LiveResponseParams;
    if (spec.liveResponse === 'GetFile') return `GetFile ${live.path}`;
    if (spec.liveResponse === 'RunScript') return `RunScript ${live.script}${live.args ? ` ${live.args}` : ''}`;
    return undefined;
  }

  /**
   * Books this call's slot with the pacer, right before the call (so the slot is when it is sent); a slot
   * that is not now parks the action (`queued`, waiting for capacity) until it is. A wake-up too late for
   * its slot (more than half the pacing margin) books a new one, so a late call never crowds the window
   * of those booked after it.
   */
  private async waitForTurn(spec: DeviceActionSpec, ctx: StepContext, state: MachineActionState): Promise<StepInProgress | null> {
    const limits = this.pacer.limits(spec.path);
    let slot = state.slotAt ? { at: new Date(state.slotAt), waitMs: Date.parse(state.slotAt) - Date.now() } : undefined;
    if (!slot || slot.waitMs < -limits.marginMs / 2) slot = await this.pacer.book(ctx.tenantId, spec.path);
    if (slot.waitMs > WAKE_EARLY_MS) {
      return {
        status: 'running',
        waitingFor: 'capacity',
        summary: `waiting for Defender capacity: ${spec.path} allows ${limits.perMinute} calls a minute and ${limits.perHour} an hour per tenant`,
        pollAfterMs: slot.waitMs - WAKE_EARLY_MS,
        state: { slotAt: slot.at.toISOString() },
      };
    }
    if (slot.waitMs > 0) await new Promise((resolve) => setTimeout(resolve, slot.waitMs));
    return null;
  }

  private async submit(spec: DeviceActionSpec, ctx: StepContext): Promise<StepInProgress> {
    const comment = defenderComment(ctx.actionId, ctx.requestedBy, ctx.reason);
    try {
      const payload = spec.liveResponse
        ? liveResponseBody(spec.liveResponse, comment, ctx.params as LiveResponseParams)
        : machineActionBody(spec.path, comment, ctx.params as ActionParams);
      const { body, requestId } = await this.client.submit(ctx.tenantId, ctx.target.id, spec.path, payload);
      return this.inProgress(
        body,
        { machineActionId: body.id, polls: 0 },
        `Defender accepted ${spec.machineActionType}; machine action ${body.id} is ${body.status}`,
        requestId,
      );
    } catch (error) {
      if (error instanceof MicrosoftApiError && error.code === 'ActiveRequestAlreadyExists')
        return spec.liveResponse ? this.adoptSession(spec, ctx, error) : this.adopt(spec, ctx, error);
      // The tenant's concurrent live response sessions are all in use (microsoft-notes M50): wait, then book a new slot.
      if (spec.liveResponse && error instanceof MicrosoftApiError && error.kind === 'throttled') {
        const waitMs = Math.max(1, error.retryAfterSeconds ?? 60) * 1000;
        return {
          status: 'running',
          waitingFor: 'capacity',
          summary: `waiting for Defender capacity: ${error.message}`,
          pollAfterMs: waitMs,
          state: { slotAt: new Date(Date.now() + waitMs).toISOString() },
          ...(error.requestId ? { microsoftRequestId: error.requestId } : {}),
        };
      }
      throw error;
    }
  }

  /**
   * A step started again without state: an earlier run may have created the machine action and died
   * before recording its id. Defender keeps the comment Cordon sent, which names the Cordon action: if
   * a machine action of this type on this device carries it, that one is tracked (whatever its status),
   * and no second one is created.
   */
  private async earlierSubmission(spec: DeviceActionSpec, ctx: StepContext): Promise<StepInProgress | undefined> {
    const listed = await this.client.actions(ctx.tenantId, `machineId eq ${odataString(ctx.target.id)} and type eq ${odataString(spec.machineActionType)}`);
    const ours = listed.find((a) => sameAction(spec, a, ctx.params as ActionParams) && (a.requestorComment ?? '').includes(ctx.actionId));
    if (!ours) return undefined;
    return this.inProgress(ours, { machineActionId: ours.id, polls: 0 }, `found the ${describeAction(ours)} an earlier run of this step created`);
  }

  /**
   * Defender already has an action of this kind pending on the device (microsoft-notes M18): the same type is
   * adopted and tracked as ours; the opposite type (release while an isolation is pending) is reported.
   */
  private async adopt(spec: DeviceActionSpec, ctx: StepContext, error: MicrosoftApiError): Promise<StepInProgress> {
    const pending = await this.client.actions(ctx.tenantId, `machineId eq ${odataString(ctx.target.id)} and (status eq 'Pending' or status eq 'InProgress')`);
    const same = pending.find((a) => sameAction(spec, a, ctx.params as ActionParams));
    if (same) return this.inProgress(same, { machineActionId: same.id, adopted: true, polls: 0 }, `adopted the ${describeAction(same)}`, error.requestId);
    const opposite = pending.find((a) => a.type === spec.opposite);
    if (opposite) {
      throw new StepError(
        'conflicting-action-pending',
        `Defender has a ${describeAction(opposite)} on ${ctx.target.display}; Cordon will not override it. Cancel it first if ${spec.machineActionType} is what you want.`,
        { microsoftCode: error.code, microsoftRequestId: error.requestId, status: error.status },
      );
    }
    throw new StepError(
      'active-request-exists',
      `Defender says an action is already in progress on ${ctx.target.display}, but lists none pending: ${error.message}`,
      { microsoftCode: error.code, microsoftRequestId: error.requestId, status: error.status, retryable: true },
    );
  }

  /**
   * A live response session is already open on the device (one per machine, microsoft-notes M50): tracked
   * as ours only when it carries this action's id in its comment (an earlier run of this step); anyone
   * else's session is theirs, and this action fails with Microsoft's words.
   */
  private async adoptSession(spec: DeviceActionSpec, ctx: StepContext, error: MicrosoftApiError): Promise<StepInProgress> {
    const pending = await this.client.actions(ctx.tenantId, `machineId eq ${odataString(ctx.target.id)} and (status eq 'Pending' or status eq 'InProgress')`);
    const sessions = pending.filter((a) => a.type === spec.machineActionType);
    const ours = sessions.find((a) => (a.requestorComment ?? '').includes(ctx.actionId));
    if (ours) return this.inProgress(ours, { machineActionId: ours.id, adopted: true, polls: 0 }, `adopted the ${describeAction(ours)}`, error.requestId);
    throw new StepError(
      'live-response-session-busy',
      `Defender: ${error.message}. ${sessions[0] ? `The device has another live response session: ${describeAction(sessions[0])}.` : 'A live response session is open on the device.'} Try again when it has finished.`,
      { microsoftCode: error.code, microsoftRequestId: error.requestId, status: error.status, retryable: true },
    );
  }

  private inProgress(action: MachineAction, state: MachineActionState, summary: string, requestId?: string): StepInProgress {
    const polls = state.polls ?? 0;
    const { pollInitialMs, pollMaxMs } = this.config.defenderEndpoint;
    return {
      status: 'running',
      summary,
      // Back off: the first look soon, then ever less often (an offline device can stay Pending for days).
      pollAfterMs: Math.min(pollMaxMs, pollInitialMs * 2 ** Math.min(polls, 20)),
      state: { ...state, polls: polls + 1 },
      ...(requestId ? { microsoftRequestId: requestId } : {}),
      detail: this.detailOf(action, state.adopted),
    };
  }

  private detailOf(action: MachineAction, adopted?: boolean): Record<string, unknown> {
    return {
      machineActionId: action.id,
      machineActionStatus: action.status,
      machineActionType: action.type,
      ...(action.scope ? { scope: action.scope } : {}),
      ...(action.relatedFileInfo ? { relatedFile: action.relatedFileInfo } : {}),
      ...(adopted ? { adopted: true } : {}),
      lastUpdate: action.lastUpdateDateTimeUtc ?? null,
    };
  }

  private async track(spec: DeviceActionSpec, ctx: StepContext, state: MachineActionState): Promise<StepOutcome | StepInProgress> {
    const action = await this.reader.read(ctx.tenantId, state.machineActionId!);
    // Not listed (yet): replication between Defender's hosts lags briefly (microsoft-notes §5.3); look again later.
    if (!action)
      return {
        status: 'running',
        summary: `waiting for Defender to list machine action ${state.machineActionId}`,
        pollAfterMs: this.config.defenderEndpoint.pollInitialMs,
        state: { ...state, polls: (state.polls ?? 0) + 1 },
      };
    const detail = this.detailOf(action, state.adopted);
    switch (action.status) {
      case 'Pending':
      case 'InProgress':
        return this.inProgress(action, state, `machine action ${action.id} is ${action.status}${state.adopted ? ' (adopted)' : ''}`);
      case 'Succeeded':
        return {
          status: 'succeeded',
          summary: `${spec.done} (machine action ${action.id})`,
          verified: true,
          detail,
          ...(await this.resultOf(spec, ctx, action)),
        };
      case 'TimeOut':
        throw new StepError(
          'device-offline',
          `The device did not pick up machine action ${action.id} before Defender timed it out: it is offline or not reporting.`,
          { microsoftCode: 'TimeOut' },
        );
      case 'Cancelled':
        throw new StepError(
          'machine-action-cancelled',
          `Defender reports machine action ${action.id} cancelled by ${action.cancellationRequestor ?? 'someone'}${action.cancellationComment ? `: ${action.cancellationComment}` : ''}.`,
          { microsoftCode: 'Cancelled' },
        );
      default:
        if (action.type === 'LiveResponse') {
          throw new StepError(
            'live-response-command-failed',
            `Defender reports live response session ${action.id} ${action.status}: ${commandErrors(action).join('; ') || 'no command error given'}.`,
            { microsoftCode: action.status },
          );
        }
        throw new StepError(
          'machine-action-failed',
          `Defender reports machine action ${action.id} ${action.status}${action.errorHResult ? ` (errorHResult ${action.errorHResult})` : ''}.`,
          { microsoftCode: action.status },
        );
    }
  }

  /** The investigation package's download link, once collected (it is short-lived: fetch it soon). */
  private async resultOf(spec: DeviceActionSpec, ctx: StepContext, action: MachineAction): Promise<{ result?: Record<string, unknown> }> {
    // The session's result, fetched now (its link lasts 30 minutes) and kept as evidence (microsoft-notes M51).
    if (spec.liveResponse) return { result: await this.results.evidence(ctx.tenantId, action, spec.liveResponse) };
    if (spec.machineActionType !== 'CollectInvestigationPackage') return {};
    const downloadUrl = await this.client.packageUri(ctx.tenantId, action.id);
    return {
      result: {
        investigationPackage: {
          machineActionId: action.id,
          downloadUrl,
          obtainedAt: new Date().toISOString(),
          note: 'The link is valid for a short time; ask again by collecting a new package.',
        },
      },
    };
  }
}
