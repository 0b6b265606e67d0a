import type { SimContext, SimHandler, SimModule, SimRequest, SimResponse, SimRoute, SimTenant } from '../types';
import { beginCall, READ_PERMISSIONS, type DefenderCall } from './call';
import { DOWNLOAD_PATH, downloadPackage, getPackageUri } from './investigation-package';
import { cancelAction, getAction, listActions } from './machine-action-routes';
import { resolveTimings, settleTenant } from './machine-actions';
import {
  deleteIndicator,
  importIndicators,
  INDICATOR_API_LIMIT,
  INDICATOR_IMPORT_LIMIT,
  INDICATOR_PERMISSIONS,
  listIndicators,
  submitIndicator,
} from './indicators';
import { getMachine, listMachines } from './machines';
import { ACTION_API_LIMIT, PACKAGE_URI_LIMIT, type RateLimit } from './rate-limit';
import { ACTION_PERMISSIONS, ACTION_SPECS, createAction } from './response-actions';
import { machineTags } from './tags';
import { downloadLiveResponseResult, LIVE_RESPONSE_DOWNLOAD_PATH, LIVE_RESPONSE_LIMIT, resultDownloadLink, runLiveResponse } from './live-response';

/**
 * The Microsoft Defender for Endpoint API (`https://api.securitycenter.microsoft.com/api/...`,
 * microsoft-notes §5): machines, response actions, machine actions and investigation packages.
 *
 * Sim-only behaviour a scenario can steer:
 * - `scenario.machineActions.{pendingMs,inProgressMs,timeoutMs}`: how actions progress on the sim clock;
 * - `SimDevice.online: false`: the device's actions stay `Pending` until `TimeOut`;
 * - `SimDevice.extra.failActions: ['Isolate', ...]` (or `['*']`): those actions end `Failed` instead
 *   of `Succeeded` (the key is not served in the machine body);
 * - `SimTenant.indicatorLimit`: the tenant's limit of active indicators (default 15,000).
 */
export const defenderModule: SimModule = (ctx) => {
  const api = (
    method: SimRoute['method'],
    pattern: string,
    name: string,
    permissions: string[],
    handle: (call: DefenderCall) => SimResponse,
    limit: RateLimit = ACTION_API_LIMIT,
  ): SimRoute => ({
    host: 'defender',
    method,
    pattern,
    handler: (req: SimRequest) => handle(beginCall(ctx, req, name, permissions, limit)),
  });

  const actionRoutes = ACTION_SPECS.map((spec) =>
    api('POST', `/api/machines/:id/${spec.path}`, spec.path, [spec.permission], (call) => createAction(call, spec)),
  );
  const download: SimHandler = (req) => downloadPackage(ctx, req);

  return [
    api('GET', '/api/machines', 'machines', READ_PERMISSIONS, (call) => listMachines(call.req, call.tenant)),
    api('GET', '/api/machines/:id', 'machines/{id}', READ_PERMISSIONS, (call) => getMachine(call.req, call.tenant)),
    ...actionRoutes,
    api('POST', '/api/machines/:id/tags', 'tags', ['Machine.ReadWrite.All'], machineTags),
    api('POST', '/api/machines/:id/runliveresponse', 'runliveresponse', ['Machine.LiveResponse'], runLiveResponse, LIVE_RESPONSE_LIMIT),
    api('GET', '/api/machineactions', 'machineactions', READ_PERMISSIONS, listActions),
    api('GET', '/api/machineactions/:id', 'machineactions/{id}', READ_PERMISSIONS, getAction),
    api('POST', '/api/machineactions/:id/cancel', 'cancel', [...ACTION_PERMISSIONS, 'Machine.LiveResponse'], cancelAction),
    api('GET', '/api/machineactions/:id/GetPackageUri', 'GetPackageUri', READ_PERMISSIONS, getPackageUri, PACKAGE_URI_LIMIT),
    // `GetLiveResponseResultDownloadLink(index=i)` is one path segment; the literal routes above win over it.
    api('GET', '/api/machineactions/:id/:fn', 'GetLiveResponseResultDownloadLink', READ_PERMISSIONS, resultDownloadLink),
    { host: 'defender', method: 'GET', pattern: DOWNLOAD_PATH, handler: download },
    api('POST', '/api/indicators', 'indicators', INDICATOR_PERMISSIONS, submitIndicator, INDICATOR_API_LIMIT),
    api('POST', '/api/indicators/import', 'indicators/import', INDICATOR_PERMISSIONS, importIndicators, INDICATOR_IMPORT_LIMIT),
    api('GET', '/api/indicators', 'indicators (list)', INDICATOR_PERMISSIONS, listIndicators, INDICATOR_API_LIMIT),
    api('DELETE', '/api/indicators/:id', 'indicators/{id}', INDICATOR_PERMISSIONS, deleteIndicator, INDICATOR_API_LIMIT),
    { host: 'defender', method: 'GET', pattern: LIVE_RESPONSE_DOWNLOAD_PATH, handler: (req) => downloadLiveResponseResult(ctx, req) },
  ];
};

/**
 * Machine actions progress lazily (no timers), whenever the Defender API is called. The core can call
 * this before showing device state (e.g. a `/_sim` state route) so isolation effects are visible
 * even when no Defender call happened since the clock moved.
 */
export function settleMachineActions(ctx: SimContext, tenant?: SimTenant): void {
  const timings = resolveTimings(ctx.scenario.machineActions);
  const now = ctx.clock.nowMs();
  for (const t of tenant ? [tenant] : ctx.tenants.values()) settleTenant(t, now, timings);
}

export { indicatorsOf, isExpired, type IndicatorRecord } from './indicators';
