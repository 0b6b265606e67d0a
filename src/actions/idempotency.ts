import { Problem } from '../common/problem';
import { claimIdempotencyKey } from '../idempotency/idempotency-key';
import { IdempotencyRepository } from '../idempotency/idempotency.repository';

/** What a create route answers; kept whole for replays. */
export interface HttpResult {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

/**
 * Idempotency-Key (ARCHITECTURE.md §4.4): same principal + key + body ⇒ the first answer again (with
 * `Idempotent-Replayed: true`) and nothing done twice; a different body ⇒ 409 idempotency-key-reused;
 * the first request still running ⇒ 409 request-in-progress. Server failures (5xx) free the key.
 */
export async function withIdempotency(
  repository: IdempotencyRepository,
  principalId: string,
  key: string | undefined,
  request: unknown,
  work: () => Promise<HttpResult>,
): Promise<HttpResult> {
  if (key === undefined) return work();
  const existing = await claimIdempotencyKey(repository, principalId, key, request);
  if (existing) return { status: existing.responseStatus!, body: existing.responseBody, headers: { ...(existing.responseHeaders ?? {}), 'Idempotent-Replayed': 'true' } };
  try {
    const result = await work();
    await repository.complete(principalId, key, result.status, result.body, result.headers);
    return result;
  } catch (error) {
    if (error instanceof Problem && error.status < 500) {
      const body = { type: `/problems/${error.slug}`, title: error.title, status: error.status, ...(error.detail ? { detail: error.detail } : {}), ...error.extras };
      await repository.complete(principalId, key, error.status, body, { ...error.headers, 'Content-Type': 'application/problem+json' });
    } else {
      await repository.release(principalId, key).catch(() => undefined);
    }
    throw error;
  }
}
