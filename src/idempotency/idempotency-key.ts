import { Problem } from '../common/problem';

/** An in-progress key older than this belonged to a request whose process died: it may be taken over. */
export const STALE_SECONDS = 600;

const KEY = /^[\x20-\x7e]{1,255}$/;

/** API.md: 1–255 printable characters. */
export function assertIdempotencyKey(key: string): void {
  if (!KEY.test(key)) {
    throw new Problem(400, 'validation-failed', 'Validation failed', 'Idempotency-Key must be 1–255 printable characters.', { errors: [{ field: 'Idempotency-Key', message: 'must be 1–255 printable characters' }] });
  }
}

export const idempotencyProblems = {
  reused: () => new Problem(409, 'idempotency-key-reused', 'Idempotency key reused', 'This Idempotency-Key was used with a different request; use a new key for a new request.'),
  inProgress: () =>
    new Problem(409, 'request-in-progress', 'Request in progress', 'A request with this Idempotency-Key is still being processed; retry shortly to get its answer.', {}, { 'Retry-After': '1' }),
};
