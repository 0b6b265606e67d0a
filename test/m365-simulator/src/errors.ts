import { randomUUID } from 'node:crypto';
import { SimError, type SimHost, type SimRequest, type SimResponse } from './types';

/**
 * Error bodies in each Microsoft host's own shape:
 * - Graph (microsoft-notes §6.1): `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`
 * - Management Activity API (microsoft-notes §2.6): `{"error":{"code","message"}}`
 * - Defender for Endpoint (microsoft-notes §5.5): `{"error":{"code","message","target"}}` (target = correlation id)
 * - Entra ID token endpoint (microsoft-notes §1.1): `{"error","error_description":"AADSTSnnnn: …","error_codes":[n],
 *   "timestamp","trace_id","correlation_id"}`
 */

type ReqLike = Pick<SimRequest, 'requestId' | 'headers'>;

const JSON_CT = 'application/json; charset=utf-8';

export function clientRequestIdOf(req: ReqLike): string {
  const sent = req.headers['client-request-id'];
  return (Array.isArray(sent) ? sent[0] : sent) || req.requestId;
}

/** Graph's innerError date: `2025-03-04T10:11:12`, no fraction, no zone (microsoft-notes §6.1 example). */
export function graphDate(now: Date): string {
  return now.toISOString().slice(0, 19);
}

/** AAD's timestamp format: `2025-03-04 10:11:12Z` (microsoft-notes §1.1 example). */
export function aadTimestamp(now: Date): string {
  return `${now.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export function graphErrorBody(req: ReqLike, now: Date, code: string, message: string) {
  return {
    error: {
      code,
      message,
      innerError: { date: graphDate(now), 'request-id': req.requestId, 'client-request-id': clientRequestIdOf(req) },
    },
  };
}

export function manageErrorBody(code: string, message: string) {
  return { error: { code, message } };
}

export function defenderErrorBody(req: ReqLike, code: string, message: string) {
  return { error: { code, message, target: req.requestId } };
}

export function aadstsBody(now: Date, error: string, aadsts: number, message: string) {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = aadTimestamp(now);
  return {
    error,
    error_description: `AADSTS${aadsts}: ${message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [aadsts],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${aadsts}`,
  };
}

export function aadstsResponse(now: Date, status: number, error: string, aadsts: number, message: string): SimResponse {
  return { status, headers: { 'content-type': JSON_CT }, body: aadstsBody(now, error, aadsts, message) };
}

export function aadstsError(now: Date, status: number, error: string, aadsts: number, message: string): SimError {
  return new SimError(aadstsResponse(now, status, error, aadsts, message));
}

/** An error in the host's shape. For login, `code` is the OAuth `error` and `aadsts` the number. */
export function hostErrorResponse(
  host: SimHost,
  req: ReqLike,
  now: Date,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
  aadsts = 90000,
): SimResponse {
  const h = { 'content-type': JSON_CT, ...headers };
  switch (host) {
    case 'graph':
      return { status, headers: h, body: graphErrorBody(req, now, code, message) };
    case 'manage':
      return { status, headers: h, body: manageErrorBody(code, message) };
    case 'defender':
      return { status, headers: h, body: defenderErrorBody(req, code, message) };
    case 'login':
      return { status, headers: h, body: aadstsBody(now, code, aadsts, message) };
  }
}

export function hostError(host: SimHost, req: ReqLike, now: Date, status: number, code: string, message: string, headers?: Record<string, string>): SimError {
  return new SimError(hostErrorResponse(host, req, now, status, code, message, headers));
}

/** 404 for a path no route matches, in the host's shape. */
export function notFoundResponse(host: SimHost, req: ReqLike & { path: string }, now: Date): SimResponse {
  switch (host) {
    case 'graph': {
      const seg = req.path.split('/').filter(Boolean).pop() ?? '';
      return hostErrorResponse(host, req, now, 404, 'itemNotFound', `Resource not found for the segment '${seg}'.`);
    }
    case 'manage':
      return hostErrorResponse(host, req, now, 404, 'NotFound', `No HTTP resource was found that matches the request URI '${req.path}'.`);
    case 'defender':
      return hostErrorResponse(host, req, now, 404, 'ResourceNotFound', `Resource ${req.path} was not found.`);
    case 'login':
      return hostErrorResponse(host, req, now, 404, 'invalid_request', 'The request is not valid for this endpoint.', {}, 900561);
  }
}

/** 500 for an unexpected exception, in the host's shape. */
export function internalErrorResponse(host: SimHost, req: ReqLike, now: Date): SimResponse {
  switch (host) {
    case 'graph':
      return hostErrorResponse(host, req, now, 500, 'generalException', 'General exception while processing.');
    case 'manage':
      return hostErrorResponse(host, req, now, 500, 'AF50000', 'An internal server error occurred. Retry the request.');
    case 'defender':
      return hostErrorResponse(host, req, now, 500, 'InternalServerError', 'An internal error occurred.');
    case 'login':
      return hostErrorResponse(host, req, now, 500, 'server_error', 'An error occurred in the sign-in service.', {}, 50000);
  }
}
