/** What a collector tells the webhook module about one new or changed object. */

export const WEBHOOK_EVENTS = ['alert.created', 'alert.updated', 'incident.created', 'incident.updated'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export interface WebhookNotification {
  event: WebhookEvent;
  /** Microsoft's id of the alert or incident. */
  objectId: string;
  /** Its severity as stored (an open enum). */
  severity: string | null;
  /** The `data` of the payload: the object as Cordon serves it over the API. */
  data: Record<string, unknown>;
}

/** Severity members in Microsoft's order (microsoft-notes §3.2); the webhook threshold is one of the last four. */
export const MIN_SEVERITIES = ['informational', 'low', 'medium', 'high'] as const;
export type MinSeverity = (typeof MIN_SEVERITIES)[number];

const RANK: Record<string, number> = { unknown: 0, informational: 0, low: 1, medium: 2, high: 3 };

/**
 * Whether an object of this severity reaches a receiver that asked for `min` and above. `unknown` (and
 * a missing severity) counts as informational. A member newer than Cordon knows (after
 * `unknownFutureValue`) cannot be judged to be below the threshold, so it is sent.
 */
export function meetsSeverity(severity: string | null, min: MinSeverity): boolean {
  const rank = severity === null ? 0 : (RANK[severity] ?? (severity === 'unknownFutureValue' ? 0 : Number.POSITIVE_INFINITY));
  return rank >= RANK[min];
}
