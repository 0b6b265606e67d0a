import type { DataSource } from 'typeorm';

/** Tables whose row count a request may change; the audit log is counted without refusal records. */
const COUNTED = [
  'tenants',
  'tenant_capabilities',
  'tenant_policies',
  'tenant_webhooks',
  'api_keys',
  'actions',
  'action_steps',
  'idempotency_keys',
  'purview_searches',
  'collection_streams',
  'collection_runs',
  'collection_gaps',
  'collection_ledger',
  'devices',
  'events',
  'security_alerts',
  'security_incidents',
  'secure_score_snapshots',
  'webhook_deliveries',
  'defender_api_slots',
];

/** Small configuration tables compared row by row (a 4xx PATCH must not half-apply). */
const COMPARED = ['tenants', 'tenant_policies', 'tenant_webhooks', 'collection_streams'];

/**
 * Refused requests are audited by design (README "The action log"): they may add entries, nothing else.
 * `api_keys.last_used_at` moves whenever a key is used, refused or not.
 */
export const REFUSAL_EVENTS = ['auth.refused', 'authz.refused'];

const SQL = `SELECT json_build_object(
  ${COUNTED.map((t) => `'${t}', (SELECT count(*) FROM ${t})`).join(',\n  ')},
  ${COMPARED.map((t) => `'${t}#rows', (SELECT md5(coalesce(string_agg((to_jsonb(x) - 'last_used_at' - 'updated_at')::text, ',' ORDER BY x::text), '')) FROM ${t} x)`).join(',\n  ')},
  'api_keys#rows', (SELECT md5(coalesce(string_agg((to_jsonb(x) - 'last_used_at')::text, ',' ORDER BY x.id), '')) FROM api_keys x),
  'actions#statuses', (SELECT md5(coalesce(string_agg(id::text || status, ',' ORDER BY id), '')) FROM actions),
  'audit', (SELECT count(*) FROM audit_log WHERE event NOT IN (${REFUSAL_EVENTS.map((e) => `'${e}'`).join(', ')}))
         + (SELECT count(*) FROM audit_pending WHERE event NOT IN (${REFUSAL_EVENTS.map((e) => `'${e}'`).join(', ')})),
  '~auditPendingId', greatest((SELECT coalesce(max(id), 0) FROM audit_pending), (SELECT coalesce(max(pending_id), 0) FROM audit_log)),
  '~auditSeq', (SELECT coalesce(max(seq), 0) FROM audit_log)
) AS state`;

export type State = Record<string, string | number>;

export async function readState(db: DataSource): Promise<State> {
  const [row] = (await db.query(SQL)) as Array<{ state: State | string }>;
  return typeof row.state === 'string' ? (JSON.parse(row.state) as State) : row.state;
}

/** What differs between two states, as "name: before → after" (the `~` marks are not state, only where to look). */
export function stateDiff(before: State, after: State): string[] {
  return Object.keys(after)
    .filter((k) => !k.startsWith('~') && String(before[k]) !== String(after[k]))
    .map((k) => `${k}: ${before[k]} → ${after[k]}`);
}

/** Audit entries (chained or pending) that a request wrote, refusals aside. */
export async function auditEntriesOf(db: DataSource, requestId: string): Promise<string[]> {
  const rows = (await db.query(
    `SELECT event FROM audit_log WHERE request_id = $1 AND event <> ALL($2) UNION ALL SELECT event FROM audit_pending WHERE request_id = $1 AND event <> ALL($2)`,
    [requestId, REFUSAL_EVENTS],
  )) as Array<{ event: string }>;
  return rows.map((r) => r.event);
}

/** The audit entries (event and request id) written since `before`, refusals aside: what a failing check names. */
export async function auditEntriesSince(db: DataSource, before: State): Promise<string[]> {
  const rows = (await db.query(
    `SELECT event, request_id FROM audit_pending WHERE id > $1 AND event <> ALL($3)
     UNION ALL SELECT event, request_id FROM audit_log WHERE (seq > $2 OR pending_id > $1) AND event <> ALL($3)`,
    [before['~auditPendingId'], before['~auditSeq'], REFUSAL_EVENTS],
  )) as Array<{ event: string; request_id: string }>;
  return [...new Set(rows.map((r) => `${r.event} (request ${r.request_id})`))];
}

/**
 * Audit entries the actions engine wrote since `before` for other requests' actions: an action admitted
 * earlier that was waiting (for Defender capacity, for its machine action) and moved on meanwhile.
 */
export async function backgroundEngineEntries(db: DataSource, before: State, requestId: string): Promise<number> {
  const [row] = (await db.query(
    `SELECT count(*)::int AS n FROM (
       SELECT request_id FROM audit_pending WHERE id > $1 AND actor_id = 'actions-engine' AND action_id IS NOT NULL
       UNION ALL SELECT request_id FROM audit_log WHERE (seq > $2 OR pending_id > $1) AND actor_id = 'actions-engine' AND action_id IS NOT NULL
     ) e WHERE request_id <> $3`,
    [before['~auditPendingId'], before['~auditSeq'], requestId],
  )) as Array<{ n: number }>;
  return row.n;
}

/** Waits until background work a request started (an action running on) has stopped changing the state. */
export async function settle(db: DataSource, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = JSON.stringify(await readState(db));
  for (;;) {
    await new Promise((r) => setTimeout(r, 40));
    const now = JSON.stringify(await readState(db));
    if (now === last || Date.now() > until) return;
    last = now;
  }
}
