import { SimError, type SimRequest, type SimResponse } from '../types';

/**
 * Defender for Endpoint error answers. Every MDE error has the same body,
 * `{"error":{"code","message","target"}}`, where `target` is the correlation id to quote to support
 * (microsoft-notes §5.5; https://learn.microsoft.com/defender-endpoint/api/common-errors). The messages are
 * free text that Microsoft may change, so only the codes and statuses are contract.
 */
export function mdeErrorResponse(req: SimRequest, status: number, code: string, message: string, headers?: Record<string, string>): SimResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: { error: { code, message, target: req.requestId } },
  };
}

export function mdeError(req: SimRequest, status: number, code: string, message: string, headers?: Record<string, string>): SimError {
  return new SimError(mdeErrorResponse(req, status, code, message, headers));
}

export const badRequest = (req: SimRequest, code: string, message: string): SimError => mdeError(req, 400, code, message);

/** The message of common-errors' own example: `{"code":"InvalidRequestBody","message":"Request body is incorrect"}`. */
export const invalidRequestBody = (req: SimRequest, detail?: string): SimError =>
  badRequest(req, 'InvalidRequestBody', detail ? `Request body is incorrect: ${detail}` : 'Request body is incorrect');

export const missingParameter = (req: SimRequest, name: string): SimError => badRequest(req, 'MissingRequiredParameter', `Parameter ${name} is missing.`);

export const odataError = (req: SimRequest, detail: string): SimError => badRequest(req, 'ODataError', `Invalid OData URI query: ${detail}`);

export const resourceNotFound = (req: SimRequest, what: string): SimError => mdeError(req, 404, 'ResourceNotFound', `${what} was not found`);
