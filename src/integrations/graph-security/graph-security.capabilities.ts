import { readCheck, type Capability, type CapabilityCheck } from '../../tenants/capability';

const ALERTS: Capability = { name: 'alerts', permissions: ['SecurityAlert.Read.All'], licence: null };
const INCIDENTS: Capability = { name: 'incidents', permissions: ['SecurityIncident.Read.All'], licence: null };

/** Defender XDR alerts and incidents: reading one of each decides them (microsoft-notes §3.1). */
export const GRAPH_SECURITY_CAPABILITIES: CapabilityCheck[] = [
  readCheck(ALERTS, ({ graph }) => graph.get('/security/alerts_v2', { query: { $top: '1' } })),
  readCheck(INCIDENTS, ({ graph }) => graph.get('/security/incidents', { query: { $top: '1' } })),
];
