import type { SimDevice, SimRequest, SimResponse, SimTenant } from '../types';
import { collectionPage, parseCollectionQuery } from './collection-query';
import { mdeError, resourceNotFound } from './errors';

/**
 * `GET /api/machines` and `GET /api/machines/{id}` (microsoft-notes §5.2;
 * https://learn.microsoft.com/defender-endpoint/api/get-machines).
 */

/** The `$filter` properties get-machines documents. */
export const MACHINE_FILTER_PROPERTIES = [
  'computerDnsName',
  'id',
  'version',
  'deviceValue',
  'aadDeviceId',
  'machineTags',
  'lastSeen',
  'exposureLevel',
  'onboardingStatus',
  'lastIpAddress',
  'healthStatus',
  'osPlatform',
  'riskScore',
  'rbacGroupId',
] as const;

/** SimDevice.extra keys that steer the sim and are never served. */
const SIM_ONLY_EXTRA_KEYS = new Set(['failActions', 'files']);

/**
 * The machine entity. Fields the scenario leaves out get the values an onboarded device with no
 * findings shows; `extra` is served as given (after the documented fields, so it can override them).
 */
export function machineBody(device: SimDevice): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: device.id,
    computerDnsName: device.computerDnsName,
    firstSeen: device.firstSeen ?? device.lastSeen,
    lastSeen: device.lastSeen,
    osPlatform: device.osPlatform,
    osProcessor: 'x64',
    version: device.version ?? null,
    osBuild: null,
    lastIpAddress: device.lastIpAddress ?? null,
    lastExternalIpAddress: device.lastExternalIpAddress ?? null,
    healthStatus: device.healthStatus,
    onboardingStatus: 'Onboarded',
    deviceValue: 'Normal',
    rbacGroupId: 0,
    rbacGroupName: null,
    riskScore: device.riskScore ?? 'None',
    exposureLevel: device.exposureLevel ?? 'None',
    isAadJoined: device.aadDeviceId !== null,
    aadDeviceId: device.aadDeviceId,
    machineTags: [],
  };
  for (const [key, value] of Object.entries(device.extra ?? {})) {
    if (!SIM_ONLY_EXTRA_KEYS.has(key)) body[key] = value;
  }
  return body;
}

/** Machine ids are SHA-1-like hex strings; Microsoft matches them case-insensitively. */
export function findDevice(tenant: SimTenant, id: string): SimDevice | undefined {
  const wanted = id.toLowerCase();
  return tenant.devices.find((d) => d.id.toLowerCase() === wanted);
}

export function machineNotFound(req: SimRequest, id: string) {
  // Wording of common-errors' own example: "Machine 123123123 was not found".
  return resourceNotFound(req, `Machine ${id}`);
}

export function listMachines(req: SimRequest, tenant: SimTenant): SimResponse {
  const query = parseCollectionQuery(req, {
    properties: MACHINE_FILTER_PROPERTIES,
    dateProperties: ['lastSeen'],
  });
  const rows = tenant.devices.map(machineBody).filter(query.filter);
  // microsoft-notes M19: when no (recent) machine matches, MDE answers 404, not an empty collection.
  if (rows.length === 0) throw mdeError(req, 404, 'NotFound', 'No machines found');
  return { status: 200, body: collectionPage(req, 'Machines', rows, query) };
}

export function getMachine(req: SimRequest, tenant: SimTenant): SimResponse {
  const device = findDevice(tenant, req.params.id);
  if (!device) throw machineNotFound(req, req.params.id);
  return {
    status: 200,
    body: { '@odata.context': `${req.baseUrl}/api/$metadata#Machines/$entity`, ...machineBody(device) },
  };
}
