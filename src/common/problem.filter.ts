import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BODY_LIMIT_BYTES } from './http-limits';
import { Problem, problems } from './problem';
import { allowedMethods } from './route-index';

const STATUS_SLUGS: Record<number, [string, string]> = {
  400: ['bad-request', 'Bad request'],
  401: ['unauthenticated', 'Authentication required'],
  403: ['forbidden', 'Forbidden'],
  404: ['not-found', 'Not found'],
  405: ['method-not-allowed', 'Method not allowed'],
  406: ['not-acceptable', 'Not acceptable'],
  408: ['request-timeout', 'Request timeout'],
  409: ['conflict', 'Conflict'],
  413: ['payload-too-large', 'Payload too large'],
  415: ['unsupported-media-type', 'Unsupported media type'],
  429: ['too-many-requests', 'Too many requests'],
  503: ['service-unavailable', 'Service unavailable'],
};

function fromHttpException(exception: HttpException, request: FastifyRequest): Problem {
  const status = exception.getStatus();
  if (status === 404) {
    const allowed = allowedMethods(request.method, request.url);
    if (allowed.length > 0) return problems.methodNotAllowed(request.method, allowed);
    return problems.notFound(`No route ${request.method} ${request.url.split('?')[0]}.`);
  }
  // Nest re-wraps Fastify's own errors (body parsing, limits) as HttpExceptions carrying the message.
  if (status === 413) return problems.payloadTooLarge(BODY_LIMIT_BYTES);
  if (status === 415) return problems.unsupportedMediaType('Send request bodies as application/json.');
  if (status === 400 && /JSON/.test(exception.message)) return problems.malformedBody('The body is not valid JSON.');
  const [slug, title] = STATUS_SLUGS[status] ?? ['http-error', 'HTTP error'];
  const response = exception.getResponse();
  const message = typeof response === 'object' && response && 'message' in response ? (response as { message: unknown }).message : exception.message;
  return new Problem(status, slug, title, Array.isArray(message) ? message.join('; ') : String(message));
}

/** Answers `problem` as `application/problem+json` (RFC 9457). */
export function sendProblem(reply: FastifyReply, request: FastifyRequest, problem: Problem): void {
  const body: Record<string, unknown> = {
    type: `/problems/${problem.slug}`,
    title: problem.title,
    status: problem.status,
    ...(problem.detail ? { detail: problem.detail } : {}),
    instance: request.url.split('?')[0],
    requestId: request.id,
    ...problem.extras,
  };
  reply.status(problem.status).headers(problem.headers).type('application/problem+json').send(body);
}

/**
 * The one place errors become responses: every error is `application/problem+json` (RFC 9457);
 * unexpected errors are logged with an error id and answered 500 without internals.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    sendProblem(reply, request, this.toProblem(exception, request));
  }

  private toProblem(exception: unknown, request: FastifyRequest): Problem {
    if (exception instanceof Problem) return exception;
    if (exception instanceof HttpException) return fromHttpException(exception, request);
    const status = (exception as { statusCode?: number })?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const [slug, title] = STATUS_SLUGS[status] ?? ['bad-request', 'Bad request'];
      return new Problem(status, slug, title, (exception as Error).message);
    }
    const errorId = randomUUID();
    this.logger.error(
      { errorId, requestId: request.id, method: request.method, route: request.routeOptions?.url, err: exception },
      `unexpected error ${errorId}`,
    );
    return new Problem(500, 'internal-error', 'Internal server error', `Something went wrong on our side. Quote error id ${errorId} when reporting it.`, {
      errorId,
    });
  }
}
