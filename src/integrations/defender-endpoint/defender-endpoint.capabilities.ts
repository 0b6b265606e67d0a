import { MicrosoftApiError } from '../../microsoft';
import type { Capability, CapabilityCheck, CapabilityResult } from '../../tenants/capability';

const DEFENDER = 'Microsoft Defender for Endpoint (microsoft-notes §5.5)';
const DEFENDER_MACHINES: Capability = { name: 'defender-machines', permissions: ['Machine.Read.All'], licence: DEFENDER };
const DEFENDER_ACTIONS: Capability = {
  name: 'defender-actions',
  permissions: ['Machine.Isolate', 'Machine.Scan', 'Machine.RestrictExecution', 'Machine.CollectForensics', 'Machine.StopAndQuarantine'],
  licence: DEFENDER,
};
/** Machine tags (microsoft-notes M49). */
const DEVICE_TAGS: Capability = { name: 'device-tags', permissions: ['Machine.ReadWrite.All'], licence: DEFENDER };
/** Live response: collect a file, run a library script (microsoft-notes M50; Defender for Endpoint Plan 2). */
const LIVE_RESPONSE: Capability = {
  name: 'live-response',
  permissions: ['Machine.LiveResponse'],
  licence: 'Microsoft Defender for Endpoint Plan 2 (microsoft-notes M50)',
};

/**
 * Custom indicators (microsoft-notes M44, M47): Ti.ReadWrite.All, which sees every indicator, is what Cordon
 * asks for; a token with only Ti.ReadWrite (the app's own indicators) is accepted too, and the detail says so.
 */
const INDICATORS: Capability = { name: 'indicators', permissions: ['Ti.ReadWrite.All'], licence: DEFENDER };

/** Ti.ReadWrite.All, or Ti.ReadWrite (limited to Cordon's own indicators), decides `indicators`. */
function indicatorsOf(granted: string[]): CapabilityResult {
  if (granted.includes('Ti.ReadWrite.All')) return { capability: INDICATORS.name, status: 'available', detail: null };
  if (granted.includes('Ti.ReadWrite')) {
    return {
      capability: INDICATORS.name,
      status: 'available',
      detail: "Ti.ReadWrite only: Cordon sees (lists, counts against the limit) only the indicators it created; grant Ti.ReadWrite.All to see the tenant's",
    };
  }
  return { capability: INDICATORS.name, status: 'forbidden', detail: 'needs Ti.ReadWrite.All (or Ti.ReadWrite), WindowsDefenderATP application permission' };
}

/**
 * Listing one machine decides the machine API; the actions and indicators cannot be probed without
 * acting, so the roles of Cordon's Defender token decide them, once the machine API answers.
 */
export const DEFENDER_ENDPOINT_CAPABILITIES: CapabilityCheck = {
  capabilities: [DEFENDER_MACHINES, DEFENDER_ACTIONS, INDICATORS, DEVICE_TAGS, LIVE_RESPONSE],
  async probe({ tenant, http, roles, failed }) {
    const machines: CapabilityResult = { capability: DEFENDER_MACHINES.name, status: 'available', detail: null };
    try {
      await http.request({ tenant, resource: 'defender', url: '/api/machines', query: { $top: 1 } });
    } catch (error) {
      // No machine matching is a 404 (microsoft-notes M19): the API answered, so it is available.
      if (!(error instanceof MicrosoftApiError && error.kind === 'not-found')) {
        const failure = failed(DEFENDER_MACHINES, error);
        return [
          failure,
          { ...failure, capability: DEFENDER_ACTIONS.name },
          { ...failure, capability: INDICATORS.name },
          { ...failure, capability: DEVICE_TAGS.name },
          { ...failure, capability: LIVE_RESPONSE.name },
        ];
      }
    }
    const granted = await roles('defender');
    // Isolation is the action that matters most; without the others the capability still stands, and
    // the detail says which actions will be refused.
    const missing = DEFENDER_ACTIONS.permissions.filter((p) => !granted.includes(p));
    const actions: CapabilityResult = !missing.includes('Machine.Isolate')
      ? { capability: DEFENDER_ACTIONS.name, status: 'available', detail: missing.length ? `not granted: ${missing.join(', ')}` : null }
      : { capability: DEFENDER_ACTIONS.name, status: 'forbidden', detail: `needs ${missing.join(', ')}` };
    const byRole = (c: Capability): CapabilityResult => {
      const lacking = c.permissions.filter((p) => !granted.includes(p));
      return lacking.length
        ? { capability: c.name, status: 'forbidden', detail: `needs ${lacking.join(', ')}` }
        : { capability: c.name, status: 'available', detail: null };
    };
    return [machines, actions, indicatorsOf(granted), byRole(DEVICE_TAGS), byRole(LIVE_RESPONSE)];
  },
};
