import type { SimContext, SimDevice, SimRequest, SimResponse, SimTenant } from '../types';
import { requestorOf, type DefenderCall } from './call';
import { badRequest, invalidRequestBody, mdeError, missingParameter, resourceNotFound } from './errors';
import { ACTIVE_STATUSES, statusOf, tenantState, machineActionBody, type LiveResponseCommandRecord, type MachineActionRecord } from './machine-actions';
import { findAction } from './machine-action-routes';
import { findDevice, machineNotFound } from './machines';
import { jsonObjectBody } from './response-actions';
import type { RateLimit } from './rate-limit';

/**
 * Live response (microsoft-notes M50, M51; https://learn.microsoft.com/defender-endpoint/api/run-live-response,
 * get-live-response-result): `POST /api/machines/{id}/runliveresponse` creates a `LiveResponse` machine
 * action whose `commands[]` run in order; `GetLiveResponseResultDownloadLink(index=i)` answers a link
 * (valid 30 minutes) to one command's result, downloaded without the bearer token.
 *
 * Sim-only behaviour a scenario can steer:
 * - `SimTenant.liveResponseLibrary`: the tenant's library (scripts and files); default `DEFAULT_LIBRARY`.
 *   A RunScript or PutFile naming a file not in it fails (and stops the rest).
 * - `SimDevice.extra.files`: `{ "<path>": "<content>" }`, what GetFile finds (paths compared
 *   case-insensitively); any other path fails with "file not found". Never served in the machine body.
 * The outcome of every command is decided when the session is created; the session then follows the
 * machine action lifecycle and ends Failed when a command fails.
 */

export interface SimLibraryFile {
  name: string;
  /** For scripts: what the script prints, its stderr and exit code. */
  output?: string;
  errors?: string;
  exitCode?: number;
}

export const DEFAULT_LIBRARY: SimLibraryFile[] = [
  {
    name: 'collect-triage.ps1',
    output: 'Collected: running processes, services, scheduled tasks, autoruns, network connections.',
    errors: '',
    exitCode: 0,
  },
];

/** 10 calls a minute per tenant (the hour window does not bind). */
export const LIVE_RESPONSE_LIMIT: RateLimit = { perMinute: 10, perHour: 600 };
export const MAX_SESSIONS_PER_TENANT = 25;
export const RESULT_LINK_TTL_MS = 30 * 60_000;
export const LIVE_RESPONSE_DOWNLOAD_PATH = '/liveresponse/result';

const COMMAND_PARAMS = { PutFile: ['FileName'], RunScript: ['ScriptName'], GetFile: ['Path'] } as const;
type CommandType = keyof typeof COMMAND_PARAMS;

export const libraryOf = (tenant: SimTenant): SimLibraryFile[] => tenant.liveResponseLibrary ?? DEFAULT_LIBRARY;

function filesOf(device: SimDevice): Record<string, string> {
  const files = device.extra?.files;
  return files && typeof files === 'object' && !Array.isArray(files) ? (files as Record<string, string>) : {};
}

/** Reads `Commands` and `Comment`; the parameter names are case-sensitive like every MDE body (microsoft-notes M17). */
function readCommands(req: SimRequest): { comment: string; commands: Array<{ type: CommandType; params: Array<{ key: string; value: string }> }> } {
  const body = jsonObjectBody(req);
  if (typeof body.Comment !== 'string' || body.Comment.trim() === '') throw missingParameter(req, 'Comment');
  if (body.Commands === undefined) throw missingParameter(req, 'Commands');
  if (!Array.isArray(body.Commands) || body.Commands.length === 0) throw invalidRequestBody(req, 'Commands must be a non-empty array');
  const commands = body.Commands.map((raw: unknown, i: number) => {
    const c = raw as { type?: unknown; params?: unknown };
    if (typeof c !== 'object' || c === null || typeof c.type !== 'string' || !(c.type in COMMAND_PARAMS)) {
      throw invalidRequestBody(req, `Commands[${i}].type must be one of PutFile, RunScript, GetFile`);
    }
    const params = Array.isArray(c.params) ? c.params : [];
    const pairs = params.map((p: { key?: unknown; value?: unknown }) => {
      if (typeof p?.key !== 'string' || typeof p?.value !== 'string') throw invalidRequestBody(req, `Commands[${i}].params must be {key, value} strings`);
      return { key: p.key, value: p.value };
    });
    const type = c.type as CommandType;
    for (const needed of COMMAND_PARAMS[type]) {
      if (!pairs.some((p) => p.key === needed && p.value !== '')) throw missingParameter(req, needed);
    }
    return { type, params: pairs };
  });
  return { comment: body.Comment, commands };
}

/** Decides each command's outcome; the first failure stops the rest (they get none). */
function outcomes(tenant: SimTenant, device: SimDevice, commands: ReturnType<typeof readCommands>['commands']): LiveResponseCommandRecord[] {
  const library = libraryOf(tenant);
  const files = filesOf(device);
  let failed = false;
  return commands.map((c, index) => {
    const record: LiveResponseCommandRecord = { index, type: c.type, params: c.params };
    if (failed) return record;
    const param = (key: string) => c.params.find((p) => p.key === key)?.value ?? '';
    if (c.type === 'RunScript' || c.type === 'PutFile') {
      const name = param(c.type === 'RunScript' ? 'ScriptName' : 'FileName');
      const entry = library.find((f) => f.name.toLowerCase() === name.toLowerCase());
      if (!entry) record.error = `${c.type === 'RunScript' ? 'Script' : 'File'} ${name} was not found in the live response library.`;
      else if (c.type === 'RunScript') {
        const args = param('Args');
        const result = {
          script_name: entry.name,
          exit_code: entry.exitCode ?? 0,
          script_output: `${entry.output ?? ''}${args ? `\nArgs: ${args}` : ''}`,
          script_errors: entry.errors ?? '',
        };
        record.result = { contentType: 'application/json', bytes: Buffer.from(JSON.stringify(result)) };
      }
    } else {
      const path = param('Path');
      const found = Object.keys(files).find((p) => p.toLowerCase() === path.toLowerCase());
      if (found === undefined) record.error = `File ${path} was not found on the device.`;
      else record.result = { contentType: 'application/octet-stream', bytes: Buffer.from(files[found], 'utf8') };
    }
    if (record.error) failed = true;
    return record;
  });
}

export function runLiveResponse(call: DefenderCall): SimResponse {
  const { req, tenant, state, nowMs, timings } = call;
  const { comment, commands } = readCommands(req);
  const device = findDevice(tenant, req.params.id);
  if (!device) throw machineNotFound(req, req.params.id);
  const active = state.actions.filter((a) => a.type === 'LiveResponse' && ACTIVE_STATUSES.includes(statusOf(a, nowMs, timings)));
  // One session per machine (microsoft-notes M50), then the tenant's 25 concurrent sessions (429).
  if (active.some((a) => a.machineId === device.id)) throw badRequest(req, 'ActiveRequestAlreadyExists', 'Action is already in progress');
  if (active.length >= MAX_SESSIONS_PER_TENANT) {
    // Retry-After: when the first running session is due to end (a minute when none has started).
    const ends = active.filter((a) => a.startedMs !== undefined).map((a) => a.startedMs! + timings.pendingMs + timings.inProgressMs);
    const seconds = ends.length ? Math.max(1, Math.ceil((Math.min(...ends) - nowMs) / 1000)) : 60;
    throw mdeError(req, 429, 'TooManyRequests', `The number of concurrent live response sessions (${MAX_SESSIONS_PER_TENANT}) is exceeded.`, {
      'retry-after': String(seconds),
    });
  }
  const action: MachineActionRecord = {
    id: call.ctx.newGuid(),
    type: 'LiveResponse',
    scope: null,
    requestor: requestorOf(call.token),
    requestorComment: comment,
    machineId: device.id,
    computerDnsName: device.computerDnsName,
    relatedFileInfo: null,
    permission: 'Machine.LiveResponse',
    createdMs: nowMs,
    startedMs: device.online ? nowMs : undefined,
    liveResponse: outcomes(tenant, device, commands),
  };
  state.actions.push(action);
  return { status: 201, body: { '@odata.context': `${req.baseUrl}/api/$metadata#MachineActions/$entity`, ...machineActionBody(action, nowMs, timings) } };
}

/**
 * `GET /api/machineactions/{id}/GetLiveResponseResultDownloadLink(index={i})`: 200 `{value: link}` for a
 * completed command that has a result; 404 otherwise (the sim's choice: the doc names no error).
 */
export function resultDownloadLink(call: DefenderCall): SimResponse {
  const { req, state, nowMs, timings } = call;
  const match = /^GetLiveResponseResultDownloadLink\(index=(\d+)\)$/i.exec(req.params.fn ?? '');
  if (!match) throw resourceNotFound(req, `Resource ${req.params.fn}`);
  const action = findAction(call, req.params.id);
  const index = Number(match[1]);
  const command = action.type === 'LiveResponse' ? action.liveResponse?.[index] : undefined;
  const status = statusOf(action, nowMs, timings);
  if (!command?.result || command.error || (status !== 'Succeeded' && status !== 'Failed')) {
    throw resourceNotFound(req, `Live response result ${index} of machine action ${action.id}`);
  }
  const token = call.ctx.newGuid();
  state.liveResponseLinks.set(token, { actionId: action.id, index, expiresMs: nowMs + RESULT_LINK_TTL_MS });
  return {
    status: 200,
    body: {
      '@odata.context': `${req.baseUrl}/api/$metadata#Edm.String`,
      value: `${req.baseUrl}${LIVE_RESPONSE_DOWNLOAD_PATH}?token=${encodeURIComponent(token)}`,
    },
  };
}

/** The download: no bearer token, the link's token is the credential (like a blob SAS URL). */
export function downloadLiveResponseResult(ctx: SimContext, req: SimRequest): SimResponse {
  const token = req.query.get('token') ?? '';
  for (const tenant of ctx.tenants.values()) {
    const state = tenantState(tenant);
    const link = state.liveResponseLinks.get(token);
    if (!link) continue;
    if (ctx.clock.nowMs() >= link.expiresMs) break;
    const result = state.actions.find((a) => a.id === link.actionId)?.liveResponse?.[link.index]?.result;
    if (!result) break;
    return { status: 200, headers: { 'content-type': result.contentType }, body: result.bytes };
  }
  return {
    status: 403,
    headers: { 'content-type': 'application/xml' },
    body: '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>Signature not valid or expired.</Message></Error>',
  };
}
