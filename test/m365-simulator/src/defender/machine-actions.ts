import type { SimDevice, SimTenant } from '../types';
import type { RateLimitState } from './rate-limit';

/**
 * Machine actions and how they progress (microsoft-notes §5.3: the MachineAction and its statuses).
 *
 * There are no timers: an action's status is a function of the sim clock, computed when someone
 * looks (any Defender call on the tenant, or `settleMachineActions`). With the scenario's
 * `machineActions` timings:
 *
 * - the device picks the action up at creation if it is online, otherwise at the first observation
 *   where it is online; an action not picked up within `timeoutMs` of its creation ends `TimeOut`
 *   (microsoft-notes §5.3: offline devices stay `Pending` until `TimeOut`, "about 3 days");
 * - once picked up it is `Pending` for `pendingMs`, then `InProgress` for `inProgressMs`, then
 *   `Succeeded`, or `Failed` when the device's `extra.failActions` lists the action type (or `'*'`);
 * - on success the effect lands on the SimDevice (isolated/isolationType, appExecutionRestricted),
 *   in completion order, so the `/_sim` control routes show the device as Microsoft would.
 */

export type ActionType =
  | 'Isolate'
  | 'Unisolate'
  | 'RunAntiVirusScan'
  | 'RestrictCodeExecution'
  | 'UnrestrictCodeExecution'
  | 'CollectInvestigationPackage'
  | 'StopAndQuarantineFile'
  | 'LiveResponse';

/** One command of a live response session, with the outcome the sim decided when it was created. */
export interface LiveResponseCommandRecord {
  index: number;
  type: 'PutFile' | 'RunScript' | 'GetFile';
  params: Array<{ key: string; value: string }>;
  /** Why the command fails (it then stops the rest); undefined when it succeeds. */
  error?: string;
  /** What GetLiveResponseResultDownloadLink serves for it (GetFile and RunScript). */
  result?: { contentType: string; bytes: Buffer };
}

export type ActionStatus = 'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'TimeOut' | 'Cancelled';

export const ACTIVE_STATUSES: readonly ActionStatus[] = ['Pending', 'InProgress'];

export interface MachineActionRecord {
  id: string;
  type: ActionType;
  scope: string | null;
  requestor: string;
  requestorComment: string;
  machineId: string;
  computerDnsName: string;
  relatedFileInfo: { fileIdentifier: string; fileIdentifierType: 'Sha1' | 'Sha256' | 'Md5' } | null;
  /** The permission that created it; cancelling needs the same one (microsoft-notes §5.3 table). */
  permission: string;
  createdMs: number;
  /** When the device picked the action up (undefined while an offline device has not). */
  startedMs?: number;
  /** Set once the action reaches a final status. */
  final?: { status: Exclude<ActionStatus, 'Pending' | 'InProgress'>; atMs: number };
  cancellation?: { requestor: string; comment: string; atMs: number };
  /** Live response sessions only. */
  liveResponse?: LiveResponseCommandRecord[];
}

/** Everything the Defender module remembers about one tenant. */
export interface DefenderTenantState {
  /** Newest last. */
  actions: MachineActionRecord[];
  rateLimits: RateLimitState;
  /** Investigation package download tokens minted by GetPackageUri. */
  packageLinks: Map<string, { actionId: string; expiresMs: number }>;
  /** Live response result download tokens minted by GetLiveResponseResultDownloadLink. */
  liveResponseLinks: Map<string, { actionId: string; index: number; expiresMs: number }>;
}

/**
 * Keyed by the tenant object itself, so loading a new scenario (new tenant objects) starts from a
 * clean slate without the module having to be told.
 */
const states = new WeakMap<SimTenant, DefenderTenantState>();

export function tenantState(tenant: SimTenant): DefenderTenantState {
  let state = states.get(tenant);
  if (!state) {
    state = { actions: [], rateLimits: new Map(), packageLinks: new Map(), liveResponseLinks: new Map() };
    states.set(tenant, state);
  }
  return state;
}

export interface ActionTimings {
  pendingMs: number;
  inProgressMs: number;
  timeoutMs: number;
}

/** Used when the scenario leaves a timing out: quick enough for demos, long enough to observe. */
export const DEFAULT_TIMINGS: ActionTimings = {
  pendingMs: 30_000,
  inProgressMs: 60_000,
  timeoutMs: 3 * 24 * 3_600_000,
};

export function resolveTimings(configured?: Partial<ActionTimings>): ActionTimings {
  return {
    pendingMs: configured?.pendingMs ?? DEFAULT_TIMINGS.pendingMs,
    inProgressMs: configured?.inProgressMs ?? DEFAULT_TIMINGS.inProgressMs,
    timeoutMs: configured?.timeoutMs ?? DEFAULT_TIMINGS.timeoutMs,
  };
}

/** The documented HRESULT of a generic failure (E_FAIL), reported on `Failed` actions. */
const E_FAIL = -2147467259;

function failsOn(device: SimDevice | undefined, type: ActionType): boolean {
  const list = device?.extra?.failActions;
  return Array.isArray(list) && (list.includes(type) || list.includes('*'));
}

function applyEffect(device: SimDevice, action: MachineActionRecord): void {
  switch (action.type) {
    case 'Isolate':
      device.isolated = true;
      // `UnManagedDevice` ("contain device", microsoft-notes §5.3) has no place in SimDevice.isolationType.
      if (action.scope === 'Full' || action.scope === 'Selective') device.isolationType = action.scope;
      else delete device.isolationType;
      break;
    case 'Unisolate':
      device.isolated = false;
      delete device.isolationType;
      break;
    case 'RestrictCodeExecution':
      device.appExecutionRestricted = true;
      break;
    case 'UnrestrictCodeExecution':
      device.appExecutionRestricted = false;
      break;
    default:
      // Scans, quarantines and package collection leave no state on the device.
      break;
  }
}

/** Brings every action of the tenant up to `nowMs`, applying device effects in completion order. */
export function settleTenant(tenant: SimTenant, nowMs: number, timings: ActionTimings): void {
  const state = states.get(tenant);
  if (!state) return;
  const succeeded: MachineActionRecord[] = [];
  for (const action of state.actions) {
    if (action.final) continue;
    const device = tenant.devices.find((d) => d.id === action.machineId);
    if (action.startedMs === undefined) {
      if (nowMs >= action.createdMs + timings.timeoutMs) {
        action.final = { status: 'TimeOut', atMs: action.createdMs + timings.timeoutMs };
        continue;
      }
      if (!device?.online) continue;
      action.startedMs = nowMs;
    }
    const doneMs = action.startedMs + timings.pendingMs + timings.inProgressMs;
    if (nowMs < doneMs) continue;
    // A live response session fails when one of its commands does (microsoft-notes M50: it stops the rest).
    const failed = failsOn(device, action.type) || (action.liveResponse ?? []).some((c) => c.error !== undefined);
    action.final = { status: failed ? 'Failed' : 'Succeeded', atMs: doneMs };
    if (!failed && device) succeeded.push(action);
  }
  succeeded.sort((a, b) => a.final!.atMs - b.final!.atMs);
  for (const action of succeeded) {
    const device = tenant.devices.find((d) => d.id === action.machineId);
    if (device) applyEffect(device, action);
  }
}

export function statusOf(action: MachineActionRecord, nowMs: number, timings: ActionTimings): ActionStatus {
  if (action.final) return action.final.status;
  if (action.startedMs === undefined || nowMs < action.startedMs + timings.pendingMs) return 'Pending';
  return 'InProgress';
}

function lastUpdateMs(action: MachineActionRecord, status: ActionStatus, timings: ActionTimings): number {
  if (action.final) return action.final.atMs;
  if (status === 'InProgress') return action.startedMs! + timings.pendingMs;
  return action.createdMs;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/**
 * The MachineAction body (microsoft-notes §5.3 table; https://learn.microsoft.com/defender-endpoint/api/machineaction).
 * Field names follow the resource page: `lastUpdateDateTimeUtc` (the list page's samples say
 * `lastUpdateTimeUtc`, a doc inconsistency) and `externalID` as the resource page spells it.
 */
export function machineActionBody(action: MachineActionRecord, nowMs: number, timings: ActionTimings): Record<string, unknown> {
  const status = statusOf(action, nowMs, timings);
  return {
    id: action.id,
    type: action.type,
    title: null,
    requestor: action.requestor,
    requestorComment: action.requestorComment,
    requestSource: 'PublicApi',
    externalID: null,
    status,
    machineId: action.machineId,
    computerDnsName: action.computerDnsName,
    creationDateTimeUtc: iso(action.createdMs),
    lastUpdateDateTimeUtc: iso(lastUpdateMs(action, status, timings)),
    cancellationRequestor: action.cancellation?.requestor ?? null,
    cancellationComment: action.cancellation?.comment ?? null,
    cancellationDateTimeUtc: iso(action.cancellation?.atMs),
    errorHResult: status === 'Failed' ? E_FAIL : 0,
    scope: action.scope,
    relatedFileInfo: action.relatedFileInfo,
    commands: (action.liveResponse ?? []).map((c) => commandBody(action, c, status)),
  };
}

/**
 * A live response command as run-live-response shows it: `commandStatus` Created until the session
 * ends, then Completed up to the first failure, Failed for that one (with its error), and the rest
 * left Created (microsoft-notes M50).
 */
function commandBody(action: MachineActionRecord, c: LiveResponseCommandRecord, status: ActionStatus): Record<string, unknown> {
  const commands = action.liveResponse ?? [];
  const firstFailure = commands.findIndex((x) => x.error !== undefined);
  const ended = status === 'Succeeded' || status === 'Failed';
  let commandStatus = 'Created';
  if (ended && (firstFailure < 0 || c.index < firstFailure)) commandStatus = 'Completed';
  if (ended && c.index === firstFailure) commandStatus = 'Failed';
  const ran = commandStatus !== 'Created';
  return {
    index: c.index,
    startTime: ran ? iso(action.startedMs) : null,
    endTime: ran ? iso(action.final?.atMs) : null,
    commandStatus,
    errors: commandStatus === 'Failed' ? [c.error] : [],
    command: { type: c.type, params: c.params },
  };
}

/**
 * Actions that exclude each other while one is active. A second request of the same kind is
 * `ActiveRequestAlreadyExists` (microsoft-notes §5.3, M18). Microsoft is silent on the opposite
 * action (release while an isolation is pending); the sim treats isolate/release and
 * restrict/unrestrict as one kind each, so the client must cancel the pending one first, which is
 * what the portal enforces too. Quarantines conflict only for the same file.
 */
export function conflictKey(type: ActionType, relatedFile?: string): string {
  switch (type) {
    case 'Isolate':
    case 'Unisolate':
      return 'isolation';
    case 'RestrictCodeExecution':
    case 'UnrestrictCodeExecution':
      return 'restriction';
    case 'StopAndQuarantineFile':
      return `quarantine:${(relatedFile ?? '').toLowerCase()}`;
    default:
      return type;
  }
}
