import { readFileSync } from 'node:fs';
import { formatCreationTime, parseCreationTime } from './manage-options';
import { parseRecordsText } from './raw-records';
import { deviceWithDefaults } from './scenario';
import type { RawRecord, SimDevice, SimTenant } from './types';

/**
 * `--load-*` files: NDJSON (one JSON object per line) or a JSON array. Records are kept exactly as
 * given (numbers as strings, odd IPs, unknown fields; audit records keep their very text, raw-records.ts)
 * and appended to the target tenant.
 */

export function readRecords(path: string): RawRecord[] {
  return parseRecordsText(readFileSync(path, 'utf8'), path);
}

const DEVICE_FIELDS = new Set([
  'id',
  'computerDnsName',
  'aadDeviceId',
  'osPlatform',
  'version',
  'healthStatus',
  'riskScore',
  'exposureLevel',
  'lastSeen',
  'firstSeen',
  'lastIpAddress',
  'lastExternalIpAddress',
  'online',
  'isolated',
  'isolationType',
  'appExecutionRestricted',
]);

/** A Defender machine object (as `GET /api/machines` returns it) to a SimDevice; other fields go to `extra`. */
export function machineToDevice(tenant: SimTenant, m: RawRecord, now: Date): SimDevice {
  const known: Record<string, unknown> = {};
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) (DEVICE_FIELDS.has(k) ? known : extra)[k] = v;
  return deviceWithDefaults(
    tenant,
    {
      ...(known as Partial<SimDevice>),
      online: (known.online as boolean | undefined) ?? m.healthStatus !== 'Inactive',
      ...(Object.keys(extra).length ? { extra } : {}),
    },
    now,
  );
}

export type LoadKind = 'audit' | 'alerts' | 'incidents' | 'signins' | 'machines';

export function loadInto(tenant: SimTenant, kind: LoadKind, path: string, now: Date, rebaseAudit = false): number {
  const records = readRecords(path);
  switch (kind) {
    case 'audit':
      if (rebaseAudit) rebaseAvailability(records, now.getTime());
      tenant.auditRecords.push(...records);
      break;
    case 'alerts':
      tenant.alerts.push(...records);
      break;
    case 'incidents':
      tenant.incidents.push(...records);
      break;
    case 'signins':
      tenant.signIns.push(...records);
      break;
    case 'machines':
      for (const m of records) tenant.devices.push(machineToDevice(tenant, m, now));
      break;
  }
  return records.length;
}

/**
 * Makes old records listable: gives each one (without its own `_simAvailableAt`) an availability time
 * so that the newest is available `now` and the others keep their spacing. CreationTime is untouched,
 * so records are still served exactly as given (they look like a late back-fill, microsoft-notes §2.7).
 */
export function rebaseAvailability(records: RawRecord[], nowMs: number): void {
  const times = records.map((r) => parseCreationTime(r.CreationTime)).filter((t) => !Number.isNaN(t));
  if (!times.length) return;
  const newest = Math.max(...times);
  for (const r of records) {
    const t = parseCreationTime(r.CreationTime);
    if (r._simAvailableAt === undefined && !Number.isNaN(t)) r._simAvailableAt = `${formatCreationTime(nowMs - (newest - t))}Z`;
  }
}
