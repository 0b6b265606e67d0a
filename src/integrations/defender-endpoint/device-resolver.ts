import { Injectable } from '@nestjs/common';
import { ActionTarget, StepError } from '../../actions/action-handler';
import { Problem } from '../../common/problem';
import { DefenderClient, odataString } from './defender-client';
import { toDefenderStepError } from './defender-step-errors';
import type { DefenderMachine } from './defender-types';
import { DevicesRepository } from './devices.repository';

const MACHINE_ID = /^[0-9a-f]{40}$/i;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The facts about a device the resolution works with, from the inventory or from Defender. */
interface Candidate {
  machineId: string;
  computerDnsName: string | null;
  aadDeviceId: string | null;
  osPlatform: string | null;
  healthStatus: string | null;
  lastSeen: string | null;
  machineTags: string[];
}

/** How `requested` names the device, for the record. */
function matchedOn(requested: string, c: Candidate): string {
  const wanted = requested.toLowerCase();
  if (c.machineId.toLowerCase() === wanted) return 'machine id';
  if (c.aadDeviceId?.toLowerCase() === wanted) return 'Entra device id';
  if (c.computerDnsName?.toLowerCase() === wanted) return 'DNS name';
  return 'short name';
}

function matches(requested: string, m: DefenderMachine): boolean {
  const wanted = requested.toLowerCase();
  const dns = m.computerDnsName?.toLowerCase() ?? '';
  return m.id.toLowerCase() === wanted || m.aadDeviceId?.toLowerCase() === wanted || dns === wanted || (!wanted.includes('.') && dns.split('.')[0] === wanted);
}

const fromMachine = (m: DefenderMachine): Candidate => ({
  machineId: m.id.toLowerCase(),
  computerDnsName: m.computerDnsName ?? null,
  aadDeviceId: m.aadDeviceId ?? null,
  osPlatform: m.osPlatform ?? null,
  healthStatus: m.healthStatus ?? null,
  lastSeen: m.lastSeen ?? null,
  machineTags: Array.isArray(m.machineTags) ? m.machineTags.map(String) : [],
});

/**
 * Resolves `{device}` (README "Device containment"): a Defender machine id, an Entra device id, or a computer DNS name —
 * exact and case-insensitive, a short name matching the first label. The inventory answers first;
 * when it knows no such device, Defender is asked (and the inventory learns the answer). Several
 * matches (duplicates, stale records) ⇒ 409 `ambiguous-target` with the candidates and when each was last seen.
 */
@Injectable()
export class DeviceResolver {
  constructor(
    private readonly devices: DevicesRepository,
    private readonly client: DefenderClient,
  ) {}

  async resolve(tenantId: string, requested: string): Promise<ActionTarget> {
    let source: 'inventory' | 'defender' = 'inventory';
    let candidates: Candidate[] = (await this.devices.findMatches(tenantId, requested)).map((d) => ({
      machineId: d.machineId,
      computerDnsName: d.computerDnsName,
      aadDeviceId: d.aadDeviceId,
      osPlatform: d.osPlatform,
      healthStatus: d.healthStatus,
      lastSeen: d.lastSeen?.toISOString() ?? null,
      machineTags: d.machineTags,
    }));
    if (candidates.length === 0) {
      source = 'defender';
      const found = (await this.askDefender(tenantId, requested).catch((error) => Promise.reject(toDefenderStepError(error, 'Machine.Read.All')))).filter((m) =>
        matches(requested, m),
      );
      await this.devices.upsert(tenantId, found);
      candidates = found.map(fromMachine).sort((a, b) => (b.lastSeen ?? '').localeCompare(a.lastSeen ?? ''));
    }
    if (candidates.length === 0)
      throw new StepError('target-not-found', `Defender for Endpoint knows no device named ${requested} (machine id, Entra device id or DNS name).`);
    if (candidates.length > 1) {
      throw new Problem(409, 'ambiguous-target', 'Ambiguous target', `${candidates.length} devices match ${requested}; name one by its machine id.`, {
        candidates: candidates.map((c) => ({
          machineId: c.machineId,
          computerDnsName: c.computerDnsName,
          aadDeviceId: c.aadDeviceId,
          lastSeen: c.lastSeen,
          healthStatus: c.healthStatus,
        })),
      });
    }
    const [device] = candidates;
    const dns = device.computerDnsName?.toLowerCase() ?? null;
    return {
      requested,
      id: device.machineId,
      display: device.computerDnsName ?? device.machineId,
      identities: [device.machineId, device.aadDeviceId?.toLowerCase(), dns, dns?.split('.')[0]].filter((v): v is string => !!v),
      groups: [],
      tags: device.machineTags.map((t) => t.toLowerCase()),
      details: { ...device, resolvedFrom: source, matchedOn: matchedOn(requested, device) },
    };
  }

  private async askDefender(tenantId: string, requested: string): Promise<DefenderMachine[]> {
    if (MACHINE_ID.test(requested)) {
      const machine = await this.client.machine(tenantId, requested);
      return machine ? [machine] : [];
    }
    if (GUID.test(requested)) return this.client.machines(tenantId, `aadDeviceId eq ${odataString(requested)}`);
    const name = odataString(requested);
    // A short name also matches FQDNs that start with it (microsoft-notes §5.2 suggests startswith()).
    return this.client.machines(
      tenantId,
      requested.includes('.') ? `computerDnsName eq ${name}` : `computerDnsName eq ${name} or startswith(computerDnsName,${odataString(`${requested}.`)})`,
    );
  }
}
