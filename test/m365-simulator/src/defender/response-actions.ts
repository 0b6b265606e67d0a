import type { SimRequest, SimResponse } from '../types';
import { requestorOf, type DefenderCall } from './call';
import { badRequest, invalidRequestBody, missingParameter } from './errors';
import { ACTIVE_STATUSES, conflictKey, machineActionBody, statusOf, type ActionType, type MachineActionRecord } from './machine-actions';
import { findDevice, machineNotFound } from './machines';

/**
 * `POST /api/machines/{id}/<action>` (microsoft-notes §5.3 table). Each returns 201 with a MachineAction.
 */

interface ParamSpec {
  name: string;
  required: boolean;
  /** Allowed values, compared exactly. */
  values?: readonly string[];
}

export interface ActionSpec {
  /** Last path segment, as documented (`runAntiVirusScan`, `StopAndQuarantineFile`). */
  path: string;
  type: ActionType;
  permission: string;
  params: readonly ParamSpec[];
  /** MachineAction.scope from the body: isolation type or scan type. */
  scopeParam?: string;
  defaultScope?: string;
}

const COMMENT: ParamSpec = { name: 'Comment', required: true };

export const ACTION_SPECS: readonly ActionSpec[] = [
  {
    path: 'isolate',
    type: 'Isolate',
    permission: 'Machine.Isolate',
    // IsolationType is optional in isolate-machine; Full is what the portal and API default to.
    params: [COMMENT, { name: 'IsolationType', required: false, values: ['Full', 'Selective', 'UnManagedDevice'] }],
    scopeParam: 'IsolationType',
    defaultScope: 'Full',
  },
  { path: 'unisolate', type: 'Unisolate', permission: 'Machine.Isolate', params: [COMMENT] },
  {
    path: 'runAntiVirusScan',
    type: 'RunAntiVirusScan',
    permission: 'Machine.Scan',
    params: [COMMENT, { name: 'ScanType', required: true, values: ['Quick', 'Full'] }],
    scopeParam: 'ScanType',
  },
  {
    path: 'restrictCodeExecution',
    type: 'RestrictCodeExecution',
    permission: 'Machine.RestrictExecution',
    params: [COMMENT],
  },
  {
    path: 'unrestrictCodeExecution',
    type: 'UnrestrictCodeExecution',
    permission: 'Machine.RestrictExecution',
    params: [COMMENT],
  },
  {
    path: 'collectInvestigationPackage',
    type: 'CollectInvestigationPackage',
    permission: 'Machine.CollectForensics',
    params: [COMMENT],
  },
  {
    path: 'StopAndQuarantineFile',
    type: 'StopAndQuarantineFile',
    permission: 'Machine.StopAndQuarantine',
    params: [COMMENT, { name: 'Sha1', required: true }],
  },
];

/** Every permission that can create (and so cancel) some machine action. */
export const ACTION_PERMISSIONS = [...new Set(ACTION_SPECS.map((s) => s.permission))];

/** The JSON object body, or InvalidRequestBody; an empty body reads as `{}` (then Comment is missing). */
export function jsonObjectBody(req: SimRequest): Record<string, unknown> {
  if (req.body === undefined && req.rawBody.length === 0) return {};
  if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) throw invalidRequestBody(req);
  return req.body as Record<string, unknown>;
}

/**
 * Reads the documented parameters, which are case-sensitive (microsoft-notes §5.1, M17):
 * - a required parameter that is absent, empty, or present only in another casing (`comment`) is
 *   `MissingRequiredParameter` — a case-sensitive binder simply does not see it;
 * - an optional parameter in another casing (`isolationType`) is `InvalidRequestBody` rather than
 *   being silently ignored, so a client with the wrong casing finds out;
 * - a value outside the documented enum (values compared exactly) is `InvalidRequestBody`;
 * - undocumented extra properties are ignored.
 */
export function readParams(req: SimRequest, params: readonly ParamSpec[]): Record<string, string | undefined> {
  const body = jsonObjectBody(req);
  const keys = Object.keys(body);
  const out: Record<string, string | undefined> = {};
  for (const param of params) {
    const value = body[param.name];
    if (value === undefined || value === null) {
      const miscased = keys.find((k) => k !== param.name && k.toLowerCase() === param.name.toLowerCase());
      if (param.required) throw missingParameter(req, param.name);
      if (miscased) throw invalidRequestBody(req, `unknown parameter '${miscased}' (parameter names are case-sensitive)`);
      out[param.name] = undefined;
      continue;
    }
    if (typeof value !== 'string') throw invalidRequestBody(req, `${param.name} must be a string`);
    if (param.required && value.trim() === '') throw missingParameter(req, param.name);
    if (param.values && !param.values.includes(value)) {
      throw invalidRequestBody(req, `${param.name} must be one of ${param.values.join(', ')}`);
    }
    out[param.name] = value;
  }
  return out;
}

/**
 * Selective isolation is Windows-only (microsoft-notes §5.3, prerequisites); stop and quarantine needs
 * Windows 10 version 1703 or later, or Windows 11 (microsoft-notes M48): a Windows 10 whose `version`
 * is a release number below 1703 is refused, and so is every other platform (servers included).
 */
function unsupportedPlatform(spec: ActionSpec, scope: string | null, device: { osPlatform: string; version?: string }): boolean {
  const windows = /^windows/i.test(device.osPlatform);
  if (spec.type === 'Isolate' && scope === 'Selective') return !windows;
  if (spec.type === 'StopAndQuarantineFile') {
    if (/^windows11$/i.test(device.osPlatform)) return false;
    if (!/^windows10$/i.test(device.osPlatform)) return true;
    return /^\d{4}$/.test(device.version ?? '') && Number(device.version) < 1703;
  }
  return false;
}

export function createAction(call: DefenderCall, spec: ActionSpec): SimResponse {
  const { req, tenant, state, nowMs, timings } = call;
  const params = readParams(req, spec.params);
  const sha1 = params.Sha1;
  if (sha1 !== undefined && !/^[0-9a-fA-F]{40}$/.test(sha1)) {
    throw badRequest(req, 'InvalidHashValue', `Hash value ${sha1} is invalid.`);
  }
  const device = findDevice(tenant, req.params.id);
  if (!device) throw machineNotFound(req, req.params.id);
  const scope = spec.scopeParam ? (params[spec.scopeParam] ?? spec.defaultScope ?? null) : null;
  if (unsupportedPlatform(spec, scope, device)) {
    const os = `${device.osPlatform}${device.version ? ` ${device.version}` : ''}`;
    throw badRequest(req, 'OsPlatformNotSupported', `OS Platform ${os} isn't supported for this action.`);
  }
  // The file's signer is known to Defender's cloud: a Microsoft-signed (or trusted-publisher) file is
  // refused when the action is requested (microsoft-notes M48; the wording is the sim's).
  if (sha1 !== undefined && (tenant.microsoftSignedFiles ?? []).some((h) => h.toLowerCase() === sha1.toLowerCase())) {
    throw badRequest(
      req,
      'BadRequest',
      `File ${sha1.toLowerCase()} is signed by Microsoft or a trusted publisher; Stop and Quarantine File can't be taken on it.`,
    );
  }

  // microsoft-notes M18: one active action of a kind per device. The message is the run-av-scan doc's; the
  // code is what peers see in practice (microsoft-notes §5.3, M18).
  const key = conflictKey(spec.type, sha1);
  const active = state.actions.find(
    (a) => a.machineId === device.id && conflictKey(a.type, a.relatedFileInfo?.fileIdentifier) === key && ACTIVE_STATUSES.includes(statusOf(a, nowMs, timings)),
  );
  if (active) throw badRequest(req, 'ActiveRequestAlreadyExists', 'Action is already in progress');

  // Isolating an isolated device (or releasing a released one) is accepted and completes as a
  // no-op: microsoft-notes §5.3 is silent, and peers report a new action rather than an error
  // (MicrosoftDocs/microsoft-365-docs#5903).
  const action: MachineActionRecord = {
    id: call.ctx.newGuid(),
    type: spec.type,
    scope,
    requestor: requestorOf(call.token),
    requestorComment: params.Comment!,
    machineId: device.id,
    computerDnsName: device.computerDnsName,
    relatedFileInfo: sha1 ? { fileIdentifier: sha1, fileIdentifierType: 'Sha1' } : null,
    permission: spec.permission,
    createdMs: nowMs,
    startedMs: device.online ? nowMs : undefined,
  };
  state.actions.push(action);
  return {
    status: 201,
    body: {
      '@odata.context': `${req.baseUrl}/api/$metadata#MachineActions/$entity`,
      ...machineActionBody(action, nowMs, timings),
    },
  };
}
