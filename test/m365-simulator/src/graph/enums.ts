/**
 * Evolvable enums (microsoft-notes §3.2, M10).
 *
 * Graph hides enum members declared after the `unknownFutureValue` sentinel unless the client sends
 * `Prefer: include-unknown-enum-members`; without it they read `unknownFutureValue`. The lists
 * below are the members declared *before* the sentinel; anything else stored on an alert is treated
 * as a newer member.
 */
import type { RawRecord, SimRequest } from '../types';

const SERVICE_SOURCE_BEFORE_SENTINEL = new Set([
  'unknown',
  'microsoftDefenderForEndpoint',
  'microsoftDefenderForIdentity',
  'microsoftDefenderForCloudApps',
  'microsoftDefenderForOffice365',
  'microsoft365Defender',
  'azureAdIdentityProtection',
  'microsoftAppGovernance',
  'dataLossPrevention',
]);

const DETECTION_SOURCE_BEFORE_SENTINEL = new Set([
  'unknown',
  'microsoftDefenderForEndpoint',
  'antivirus',
  'smartScreen',
  'customTi',
  'microsoftDefenderForOffice365',
  'automatedInvestigation',
  'microsoftThreatExperts',
  'customDetection',
  'microsoftDefenderForIdentity',
  'cloudAppSecurity',
  'microsoft365Defender',
  'azureAdIdentityProtection',
  'manual',
  'microsoftDataLossPrevention',
  'appGovernancePolicy',
  'appGovernanceDetection',
]);

const EVOLVABLE: Record<string, Set<string>> = {
  serviceSource: SERVICE_SOURCE_BEFORE_SENTINEL,
  detectionSource: DETECTION_SOURCE_BEFORE_SENTINEL,
};

/** True when the request's `Prefer` header asks for members after the sentinel. */
export function wantsUnknownEnumMembers(req: SimRequest): boolean {
  const prefer = req.headers.prefer;
  const values = Array.isArray(prefer) ? prefer : prefer ? [prefer] : [];
  return values.some((v) =>
    v
      .split(',')
      .map((p) => p.trim().toLowerCase())
      .includes('include-unknown-enum-members'),
  );
}

/** Returns the alert as the client sees it: newer enum members masked unless asked for. */
export function presentAlert(alert: RawRecord, includeUnknown: boolean): RawRecord {
  if (includeUnknown) return alert;
  let out = alert;
  for (const [property, known] of Object.entries(EVOLVABLE)) {
    const value = alert[property];
    if (typeof value === 'string' && value !== 'unknownFutureValue' && !known.has(value)) {
      out = out === alert ? { ...alert } : out;
      out[property] = 'unknownFutureValue';
    }
  }
  return out;
}
