import type { SimResponse } from '../types';
import { requestorOf, type DefenderCall } from './call';
import { collectionPage, parseCollectionQuery } from './collection-query';
import { badRequest, resourceNotFound } from './errors';
import { ACTIVE_STATUSES, machineActionBody, statusOf, type MachineActionRecord } from './machine-actions';
import { readParams } from './response-actions';

/**
 * `GET /api/machineactions`, `GET /api/machineactions/{id}` and `POST /api/machineactions/{id}/cancel`
 * (microsoft-notes §5.3; get-machineactions-collection, get-machineaction-object, cancel-machine-action).
 */

/** The `$filter` properties get-machineactions-collection documents. */
const ACTION_FILTER_PROPERTIES = ['id', 'status', 'machineId', 'type', 'requestor', 'creationDateTimeUtc'];

export function findAction(call: DefenderCall, id: string): MachineActionRecord {
  const wanted = id.toLowerCase();
  const action = call.state.actions.find((a) => a.id.toLowerCase() === wanted);
  if (!action) throw resourceNotFound(call.req, `MachineAction ${id}`);
  return action;
}

function entity(call: DefenderCall, action: MachineActionRecord): Record<string, unknown> {
  return {
    '@odata.context': `${call.req.baseUrl}/api/$metadata#MachineActions/$entity`,
    ...machineActionBody(action, call.nowMs, call.timings),
  };
}

/**
 * Newest first: the collection page's second example filters by machine and takes `$top=2` to get
 * "the latest two". Unlike `/api/machines`, an empty result is an empty collection.
 */
export function listActions(call: DefenderCall): SimResponse {
  const query = parseCollectionQuery(call.req, {
    properties: ACTION_FILTER_PROPERTIES,
    dateProperties: ['creationDateTimeUtc'],
  });
  const rows = [...call.state.actions]
    .reverse()
    .map((a) => machineActionBody(a, call.nowMs, call.timings))
    .filter(query.filter);
  return { status: 200, body: collectionPage(call.req, 'MachineActions', rows, query) };
}

export function getAction(call: DefenderCall): SimResponse {
  return { status: 200, body: entity(call, findAction(call, call.req.params.id)) };
}

/**
 * Cancels an action that is not final yet; 200 with the MachineAction (cancel-machine-action). The
 * sim asks for the permission of the original action, stricter than the doc, which accepts any one
 * (microsoft-notes §5.3): a client that passes here passes at Microsoft. Cancelling a final action is
 * a 400 `BadRequest` (the doc only says such actions can't be cancelled).
 */
export function cancelAction(call: DefenderCall): SimResponse {
  const { req, ctx } = call;
  const params = readParams(req, [{ name: 'Comment', required: true }]);
  const action = findAction(call, req.params.id);
  ctx.requireToken(req, 'defender', [action.permission]);
  const status = statusOf(action, call.nowMs, call.timings);
  if (!ACTIVE_STATUSES.includes(status)) {
    throw badRequest(req, 'BadRequest', `Machine action ${action.id} is ${status} and can't be cancelled.`);
  }
  action.cancellation = { requestor: requestorOf(call.token), comment: params.Comment!, atMs: call.nowMs };
  action.final = { status: 'Cancelled', atMs: call.nowMs };
  return { status: 200, body: entity(call, action) };
}
