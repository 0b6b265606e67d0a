/** Graph behaviour knobs from the scenario (types.ts GraphScenarioOptions), with defaults. */
import type { Scenario } from '../types';

export interface GraphOptions {
  revokeSignInSessionsStatus: 200 | 204;
  incidentsExpandFailureThreshold: number;
  auditQuery: { notStartedMs: number; runningMs: number };
  throttling: {
    identityProtectionPerSecond: number;
    reportsPer10Seconds: number;
    securityPerMinute: number;
    outlookPer10Minutes: number;
    directoryWritesPer150Seconds: number;
    mailboxConcurrency: number;
  };
  mail: { remediationDelayMs: number; latencyMs: number };
}

export function graphOptions(scenario: Scenario): GraphOptions {
  const o = scenario.graph ?? {};
  return {
    // 200 {value:true} per microsoft-notes §4.2; a scenario may pick 204, which clients must also accept (M15).
    revokeSignInSessionsStatus: o.revokeSignInSessionsStatus ?? 200,
    // elastic/integrations#18144 saw it on "large tenants"; the exact size is unknown (microsoft-notes M9).
    incidentsExpandFailureThreshold: o.incidentsExpandFailureThreshold ?? 1000,
    auditQuery: {
      notStartedMs: o.auditQuery?.notStartedMs ?? 30_000,
      runningMs: o.auditQuery?.runningMs ?? 120_000,
    },
    // microsoft-notes §3.5: the newest (strictest) revision.
    throttling: {
      identityProtectionPerSecond: o.throttling?.identityProtectionPerSecond ?? 1,
      reportsPer10Seconds: o.throttling?.reportsPer10Seconds ?? 5,
      securityPerMinute: o.throttling?.securityPerMinute ?? 150,
      // microsoft-notes §8.10: Outlook per app and mailbox; identity and access writes per app and tenant.
      outlookPer10Minutes: o.throttling?.outlookPer10Minutes ?? 10_000,
      directoryWritesPer150Seconds: o.throttling?.directoryWritesPer150Seconds ?? 3000,
      // microsoft-notes M56: four requests in flight per app and mailbox.
      mailboxConcurrency: o.throttling?.mailboxConcurrency ?? 4,
    },
    mail: { remediationDelayMs: o.mail?.remediationDelayMs ?? 10_000, latencyMs: o.mail?.latencyMs ?? 0 },
  };
}
