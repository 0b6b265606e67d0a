/**
 * Graph error answers (microsoft-notes §6.1, §6.2).
 *
 * Every Graph error is one `error` object with `code`, `message` and an `innerError` carrying
 * `date`, `request-id` and `client-request-id`; the same ids travel as response headers (the core
 * server adds those). The JS client's GraphErrorHandler reads `innerError` in camelCase (microsoft-notes §6.3).
 */
import { SimError, type SimClock, type SimRequest, type SimResponse } from '../types';

/** Which Microsoft back end answers: directory-backed endpoints use Entra codes, the others OData ones. */
export type ErrorFamily = 'directory' | 'security' | 'reports' | 'identityProtection';

/** `2025-03-04T10:11:12`: the innerError date has no fraction and no zone (microsoft-notes §6.1 example). */
export function innerErrorDate(clock: SimClock): string {
  return clock.now().toISOString().slice(0, 19);
}

function clientRequestId(req: SimRequest): string {
  const sent = req.headers['client-request-id'];
  return (Array.isArray(sent) ? sent[0] : sent) || req.requestId;
}

export function graphErrorResponse(
  clock: SimClock,
  req: SimRequest,
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): SimResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: {
      error: {
        code,
        message,
        innerError: {
          date: innerErrorDate(clock),
          'request-id': req.requestId,
          'client-request-id': clientRequestId(req),
        },
      },
    },
  };
}

export function graphError(clock: SimClock, req: SimRequest, status: number, code: string, message: string, headers?: Record<string, string>): SimError {
  return new SimError(graphErrorResponse(clock, req, status, code, message, headers));
}

/** 404 for a directory object (user, group, grant, app, assignment) in Entra's words. */
export function resourceNotFound(clock: SimClock, req: SimRequest, id: string): SimError {
  return graphError(
    clock,
    req,
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );
}

/**
 * 429 as Graph sends it (microsoft-notes §6.2). `retryAfterSeconds` undefined ⇒ no `Retry-After` header, which is
 * what Identity Protection does (microsoft-notes §3.5, M12).
 */
export function throttledError(clock: SimClock, req: SimRequest, retryAfterSeconds?: number): SimError {
  const response = graphErrorResponse(
    clock,
    req,
    429,
    'TooManyRequests',
    'Please retry again later.',
    retryAfterSeconds === undefined ? undefined : { 'retry-after': String(retryAfterSeconds) },
  );
  const error = (response.body as { error: { innerError: Record<string, string> } }).error;
  error.innerError = { code: '429', ...error.innerError, message: 'Please retry after', status: '429' };
  return new SimError(response);
}

/** 400 for a query Graph refuses; directory-backed services use Entra codes (microsoft-notes §6.1). */
export function badQuery(clock: SimClock, req: SimRequest, family: ErrorFamily, message: string, kind: 'syntax' | 'unsupported' = 'syntax'): SimError {
  const code = family === 'security' ? 'BadRequest' : kind === 'unsupported' ? 'Request_UnsupportedQuery' : 'Request_BadRequest';
  return graphError(clock, req, 400, code, message);
}
