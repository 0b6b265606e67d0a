import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit-log/audit-entry';
import { FieldError, Problem, problems } from '../common/problem';
import type { IdempotencyKeyEntity } from './idempotency-key.entity';
import type { IdempotencyRepository } from './idempotency.repository';

/** An in-progress key older than this belonged to a request whose process died: it may be taken over. */
const STALE_SECONDS = 600;

/** ARCHITECTURE.md §4.4: 1–255 printable ASCII characters (so never empty, NUL or a surrogate). */
const KEY = /^[\x20-\x7e]{1,255}$/;
const KEY_RULE = 'must be 1–255 printable characters';

/** What is wrong with an `Idempotency-Key` header, if anything (absent is fine: the request is simply not idempotent). */
export function idempotencyKeyError(header: string | string[] | undefined): FieldError | undefined {
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? header.join(', ') : header;
  return KEY.test(key) ? undefined : { field: 'Idempotency-Key', message: KEY_RULE };
}

function assertIdempotencyKey(key: string): void {
  const error = idempotencyKeyError(key);
  if (error) throw problems.validation([error], `Idempotency-Key ${KEY_RULE}.`);
}

const idempotencyProblems = {
  reused: () =>
    new Problem(
      409,
      'idempotency-key-reused',
      'Idempotency key reused',
      'This Idempotency-Key was used with a different request; use a new key for a new request.',
    ),
  inProgress: () =>
    new Problem(
      409,
      'request-in-progress',
      'Request in progress',
      'A request with this Idempotency-Key is still being processed; retry shortly to get its answer.',
      {},
      { 'Retry-After': '1' },
    ),
};

/**
 * Claims `key` for this principal and request (ARCHITECTURE.md §4.4): answers null when the request is to run — the
 * key was new, or its earlier holder died long ago — or the completed row whose answer is to be
 * replayed. The same key with another request ⇒ 409 idempotency-key-reused; the first request still
 * running ⇒ 409 request-in-progress.
 */
export async function claimIdempotencyKey(
  repository: IdempotencyRepository,
  principalId: string,
  key: string,
  request: unknown,
): Promise<IdempotencyKeyEntity | null> {
  assertIdempotencyKey(key);
  const hash = createHash('sha256').update(canonicalJson(request)).digest();
  const existing = await repository.transaction(async (manager) => {
    const found = await repository.claim(manager, principalId, key, hash);
    if (
      found?.state === 'in_progress' &&
      Buffer.from(found.requestHash).equals(hash) &&
      (await repository.takeOverStale(manager, principalId, key, hash, STALE_SECONDS))
    )
      return null;
    return found;
  });
  if (!existing) return null;
  if (!Buffer.from(existing.requestHash).equals(hash)) throw idempotencyProblems.reused();
  if (existing.state === 'in_progress') throw idempotencyProblems.inProgress();
  return existing;
}
