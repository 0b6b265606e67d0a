import { readCheck, type Capability, type CapabilityCheck } from '../../tenants/capability';
import { RUN_HUNTING_QUERY } from './hunting-client';

/** Every hunting table, and on-demand hunting, hang on this one capability. */
export const ADVANCED_HUNTING: Capability = {
  name: 'advanced-hunting',
  permissions: ['ThreatHunting.Read.All'],
  licence: 'Microsoft Defender XDR (microsoft-notes §10)',
};

/**
 * A one-row query decides it: answered ⇒ available; a 403 saying "not licensed" ⇒ unlicensed, any other
 * 403 ⇒ forbidden naming ThreatHunting.Read.All (the probe reads the failure). It costs one of the
 * tenant's hunting calls (microsoft-notes M41).
 */
export const DEFENDER_HUNTING_CAPABILITIES: CapabilityCheck[] = [
  readCheck(ADVANCED_HUNTING, ({ graph }) => graph.post(RUN_HUNTING_QUERY, { Query: 'AlertEvidence | take 1', Timespan: 'PT1H' })),
];
