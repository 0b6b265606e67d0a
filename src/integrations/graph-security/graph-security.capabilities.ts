import { readCheck, type Capability, type CapabilityCheck, type ProbeContext } from '../../tenants/capability';

const ALERTS: Capability = { name: 'alerts', permissions: ['SecurityAlert.Read.All'], licence: null };
const INCIDENTS: Capability = { name: 'incidents', permissions: ['SecurityIncident.Read.All'], licence: null };
const ALERT_ACTIONS: Capability = { name: 'alert-actions', permissions: ['SecurityAlert.ReadWrite.All'], licence: null };
const INCIDENT_ACTIONS: Capability = { name: 'incident-actions', permissions: ['SecurityIncident.ReadWrite.All'], licence: null };

/**
 * Writing to alerts or incidents cannot be probed without changing one: reading the collection proves
 * Graph and Defender XDR answer us, and the roles of Cordon's Graph token say whether it may write
 * (microsoft-notes M42, M43).
 */
function writeCheck(capability: Capability, read: (ctx: ProbeContext) => Promise<unknown>): CapabilityCheck {
  return {
    capabilities: [capability],
    async probe(ctx) {
      await read(ctx);
      const granted = await ctx.roles('graph');
      if (capability.permissions.some((p) => granted.includes(p))) return [{ capability: capability.name, status: 'available', detail: null }];
      return [{ capability: capability.name, status: 'forbidden', detail: `needs ${capability.permissions.join(' or ')}` }];
    },
  };
}

const readAlerts = ({ graph }: ProbeContext) => graph.get('/security/alerts_v2', { query: { $top: '1' } });
const readIncidents = ({ graph }: ProbeContext) => graph.get('/security/incidents', { query: { $top: '1' } });

/** Defender XDR alerts and incidents: reading one of each decides them (microsoft-notes §3.1); writing needs the ReadWrite roles. */
export const GRAPH_SECURITY_CAPABILITIES: CapabilityCheck[] = [
  readCheck(ALERTS, readAlerts),
  readCheck(INCIDENTS, readIncidents),
  writeCheck(ALERT_ACTIONS, readAlerts),
  writeCheck(INCIDENT_ACTIONS, readIncidents),
];
