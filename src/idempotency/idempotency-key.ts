import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit-log/audit-entry';
import { FieldError, Problem, problems } from '../common/problem';
import type { IdempotencyKeyEntity } from './idempotency-key.entity';
import type { IdempotencyRepository } from './idempotency.repository';

/** An in-progress key without a hold (claimed before holds were renewed) older than this belonged to a dead request. */
const LEGACY_STALE_SECONDS = 600;

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

export const idempotencyProblems = {
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

/** What claiming a key decided: run the request (carrying on with `resumeActionId` when a dead request recorded one), or replay. */
export type IdempotencyClaim = { run: true; resumeActionId?: string } | { run: false; replay: IdempotencyKeyEntity };

/**
 * Claims `key` for this principal and request (ARCHITECTURE.md §4.4): the request is to run when the key
 * was new, or when its earlier holder stopped renewing its hold (its process died) — then with the action
 * that request had recorded, if any; the completed row's answer is to be replayed. The same key with
 * another request ⇒ 409 idempotency-key-reused; the first request still running ⇒ 409 request-in-progress.
 */
export async function claimIdempotencyKey(
  repository: IdempotencyRepository,
  principalId: string,
  key: string,
  request: unknown,
  holdSeconds: number,
): Promise<IdempotencyClaim> {
  assertIdempotencyKey(key);
  const hash = createHash('sha256').update(canonicalJson(request)).digest();
  const outcome = await repository.transaction(async (manager) => {
    const found = await repository.claim(manager, principalId, key, hash, holdSeconds);
    if (!found) return { run: true } as const;
    if (found.state === 'in_progress' && Buffer.from(found.requestHash).equals(hash)) {
      const taken = await repository.takeOver(manager, principalId, key, hash, holdSeconds, LEGACY_STALE_SECONDS);
      if (taken) return { run: true, ...(taken.actionId ? { resumeActionId: taken.actionId } : {}) } as const;
    }
    return { run: false, replay: found } as const;
  });
  if (outcome.run) return outcome;
  const existing = outcome.replay;
  if (!Buffer.from(existing.requestHash).equals(hash)) throw idempotencyProblems.reused();
  if (existing.state === 'in_progress') throw idempotencyProblems.inProgress();
  return outcome;
}
