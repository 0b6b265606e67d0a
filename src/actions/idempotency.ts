import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit-log/audit-entry';
import { Problem } from '../common/problem';
import { ActionsRepository } from './actions.repository';

/** What a create route answers; kept whole for replays. */
export interface HttpResult {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

const KEY = /^[\x20-\x7e]{1,255}$/;
/** An in-progress key older than this belonged to a request whose process died: it may be taken over. */
const STALE_SECONDS = 600;

/**
 * Idempotency-Key (API.md): same principal + key + body ⇒ the first answer again (with
 * `Idempotent-Replayed: true`) and nothing done twice; a different body ⇒ 409 idempotency-key-reused;
 * the first request still running ⇒ 409 request-in-progress. Server failures (5xx) free the key.
 */
export async function withIdempotency(
  repository: ActionsRepository,
  principalId: string,
  key: string | undefined,
  request: unknown,
  work: () => Promise<HttpResult>,
): Promise<HttpResult> {
  if (key === undefined) return work();
  if (!KEY.test(key)) throw new Problem(400, 'validation-failed', 'Validation failed', 'Idempotency-Key must be 1–255 printable characters.', { errors: [{ field: 'Idempotency-Key', message: 'must be 1–255 printable characters' }] });
  const hash = createHash('sha256').update(canonicalJson(request)).digest();
  const existing = await repository.transaction(async (manager) => {
    const found = await repository.claimIdempotencyKey(manager, principalId, key, hash);
    if (found && found.state === 'in_progress' && found.requestHash.equals(hash) && (await repository.takeOverStaleKey(manager, principalId, key, hash, STALE_SECONDS))) return null;
    return found;
  });
  if (existing) {
    if (!Buffer.from(existing.requestHash).equals(hash)) {
      throw new Problem(409, 'idempotency-key-reused', 'Idempotency key reused', 'This Idempotency-Key was used with a different request; use a new key for a new request.');
    }
    if (existing.state === 'in_progress') {
      throw new Problem(409, 'request-in-progress', 'Request in progress', 'A request with this Idempotency-Key is still being processed; retry shortly to get its answer.', {}, { 'Retry-After': '1' });
    }
    return { status: existing.responseStatus!, body: existing.responseBody, headers: { ...(existing.responseHeaders ?? {}), 'Idempotent-Replayed': 'true' } };
  }
  try {
    const result = await work();
    await repository.completeIdempotencyKey(principalId, key, result.status, result.body, result.headers);
    return result;
  } catch (error) {
    if (error instanceof Problem && error.status < 500) {
      const body = { type: `/problems/${error.slug}`, title: error.title, status: error.status, ...(error.detail ? { detail: error.detail } : {}), ...error.extras };
      await repository.completeIdempotencyKey(principalId, key, error.status, body, { ...error.headers, 'Content-Type': 'application/problem+json' });
    } else {
      await repository.releaseIdempotencyKey(principalId, key).catch(() => undefined);
    }
    throw error;
  }
}
