import type { SimResponse } from '../types';
import type { DefenderCall } from './call';
import { invalidRequestBody } from './errors';
import { findDevice, machineBody, machineNotFound } from './machines';
import { readParams } from './response-actions';

/**
 * `POST /api/machines/{id}/tags` `{"Value","Action":"Add"|"Remove"}` (microsoft-notes M49;
 * https://learn.microsoft.com/defender-endpoint/api/add-or-remove-machine-tags): 200 with the Machine.
 * The tags live in the device's `extra.machineTags`, which GET /api/machines serves. Sim choices:
 * adding a tag the machine has (exact text) and removing one it does not have are no-ops that still
 * answer 200; a value over 200 characters is InvalidRequestBody.
 */
export const MAX_TAG_LENGTH = 200;

export function machineTags(call: DefenderCall): SimResponse {
  const { req, tenant } = call;
  const params = readParams(req, [
    { name: 'Value', required: true },
    { name: 'Action', required: true, values: ['Add', 'Remove'] },
  ]);
  const value = params.Value!;
  if (value.length > MAX_TAG_LENGTH) throw invalidRequestBody(req, `Value must be at most ${MAX_TAG_LENGTH} characters`);
  const device = findDevice(tenant, req.params.id);
  if (!device) throw machineNotFound(req, req.params.id);
  const extra = (device.extra ??= {});
  const tags = Array.isArray(extra.machineTags) ? (extra.machineTags as unknown[]).map(String) : [];
  if (params.Action === 'Add' && !tags.includes(value)) tags.push(value);
  extra.machineTags = params.Action === 'Remove' ? tags.filter((t) => t !== value) : tags;
  return { status: 200, body: { '@odata.context': `${req.baseUrl}/api/$metadata#Machines/$entity`, ...machineBody(device) } };
}
