import { applyDecorators, CallHandler, ExecutionContext, Injectable, NestInterceptor, SetMetadata, UseInterceptors } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { catchError, from, mergeMap, Observable, of, throwError } from 'rxjs';
import type { Principal } from '../auth/principal';
import { Problem } from '../common/problem';
import { claimIdempotencyKey } from './idempotency-key';
import { IdempotencyRepository } from './idempotency.repository';

const OPERATION = 'cordon:idempotent-operation';
/** Response headers a replay repeats (the body and status are always repeated). */
const REPLAYED_HEADERS = ['location', 'retry-after', 'preference-applied'];

/** What is stored for an answer that was a problem: it is thrown again on replay, so it renders the same. */
interface StoredProblem {
  problem: { status: number; slug: string; title: string; detail?: string; extras: Record<string, unknown>; headers: Record<string, string> };
}

/**
 * Makes a create route honour `Idempotency-Key` (ARCHITECTURE.md §4.4): same principal + key + request ⇒ the first
 * answer again with `Idempotent-Replayed: true`, and nothing done twice; the same key with another
 * request ⇒ 409 `idempotency-key-reused`; the first still running ⇒ 409 `request-in-progress`. Server
 * failures (5xx) and invalid requests free the key. `operation` names the route, so a key reused on
 * another route is a different request; `description` documents the header in OpenAPI.
 */
export function Idempotent(operation: string, description = 'Same key and request ⇒ the first answer is replayed (Idempotent-Replayed: true); another request with the key ⇒ 409 idempotency-key-reused.') {
  return applyDecorators(SetMetadata(OPERATION, operation), UseInterceptors(IdempotencyInterceptor), ApiHeader({ name: 'Idempotency-Key', required: false, description }));
}

@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly repository: IdempotencyRepository,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const operation = this.reflector.get<string | undefined>(OPERATION, context.getHandler());
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & { principal: Principal }>();
    const reply = http.getResponse<FastifyReply>();
    const header = request.headers['idempotency-key'];
    const key = Array.isArray(header) ? header[0] : header;
    if (!operation || key === undefined) return next.handle();
    const principalId = `${request.principal.type}:${request.principal.id}`;
    const existing = await claimIdempotencyKey(this.repository, principalId, key, { operation, params: request.params ?? {}, body: request.body ?? null });
    if (existing) return this.replay(reply, existing.responseStatus!, existing.responseBody, existing.responseHeaders ?? {});
    return next.handle().pipe(
      mergeMap((body) => from(this.repository.complete(principalId, key, reply.statusCode, body ?? null, replayedHeaders(reply)).then(() => body))),
      catchError((error: unknown) => from(this.onError(principalId, key, error)).pipe(mergeMap(() => throwError(() => error)))),
    );
  }

  private replay(reply: FastifyReply, status: number, body: unknown, headers: Record<string, string>): Observable<unknown> {
    const stored = (body as StoredProblem | null)?.problem;
    if (stored && status >= 400) {
      throw new Problem(stored.status, stored.slug, stored.title, stored.detail, stored.extras, { ...stored.headers, 'Idempotent-Replayed': 'true' });
    }
    reply.status(status);
    for (const [name, value] of Object.entries(headers)) reply.header(name, value);
    reply.header('Idempotent-Replayed', 'true');
    return of(body);
  }

  /** A refusal (4xx problem) is the answer and is kept; anything else frees the key for a retry. */
  private async onError(principalId: string, key: string, error: unknown): Promise<void> {
    if (error instanceof Problem && error.status < 500 && error.slug !== 'validation-failed') {
      const problem: StoredProblem = { problem: { status: error.status, slug: error.slug, title: error.title, detail: error.detail, extras: error.extras, headers: error.headers } };
      await this.repository.complete(principalId, key, error.status, problem, {});
    } else {
      await this.repository.release(principalId, key).catch(() => undefined);
    }
  }
}

function replayedHeaders(reply: FastifyReply): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = reply.getHeader(name);
    if (value !== undefined) headers[name] = String(value);
  }
  return headers;
}
