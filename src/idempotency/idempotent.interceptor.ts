import { applyDecorators, CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor, SetMetadata, UseInterceptors } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { catchError, finalize, from, mergeMap, Observable, of, throwError } from 'rxjs';
import type { Principal } from '../access/principal';
import { Problem } from '../common/problem';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { claimIdempotencyKey } from './idempotency-key';
import { IdempotencyRepository } from './idempotency.repository';
import { SealedResponse, SealedResponses } from './sealed-responses';

const OPERATION = 'cordon:idempotent-operation';
/** Response headers a replay repeats (the body and status are always repeated). */
const REPLAYED_HEADERS = ['location', 'retry-after', 'preference-applied'];

/**
 * What the interceptor tells the route about its key (`request.idempotency`): admission records the action
 * against it, and carries on with `resumeActionId` — the action a request that died had recorded.
 */
export interface IdempotencyHold {
  principalId: string;
  key: string;
  resumeActionId?: string;
}

/** What is stored for an answer that was a problem: it is thrown again on replay, so it renders the same. */
interface StoredProblem {
  problem: { status: number; slug: string; title: string; detail?: string; extras: Record<string, unknown>; headers: Record<string, string> };
}

export interface IdempotentOptions {
  /** The answer holds a secret shown once: its replay copy is kept only encrypted (`SealedResponses`). */
  secretInAnswer?: boolean;
  /** What a replay answers, for the header's OpenAPI description (the default suits most create routes). */
  description?: string;
  /**
   * Body fields that are secrets (a password to set): left out of the request's stored fingerprint (only
   * whether one was given counts), so no hash of a secret is kept; a retry with the key is the same request.
   */
  secretFields?: string[];
}

/** The body as fingerprinted: each secret field's value replaced by a marker. */
function withoutSecrets(body: unknown, fields: string[]): unknown {
  if (fields.length === 0 || body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const f of fields) if (f in copy) copy[f] = '[secret]';
  return copy;
}

/**
 * Makes a create route honour `Idempotency-Key` (ARCHITECTURE.md §4.4): same principal + key + request ⇒ the first
 * answer again with `Idempotent-Replayed: true`, and nothing done twice; the same key with another
 * request ⇒ 409 `idempotency-key-reused`; the first still running ⇒ 409 `request-in-progress`. Server
 * failures (5xx) and invalid requests free the key. `operation` names the route, so a key reused on
 * another route is a different request; `description` documents the header in OpenAPI.
 */
export function Idempotent(operation: string, options: IdempotentOptions = {}) {
  return applyDecorators(
    SetMetadata(OPERATION, { operation, secretInAnswer: options.secretInAnswer ?? false, secretFields: options.secretFields ?? [] }),
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x20-\\x7e]+$' },
      description: `1–255 printable characters. ${
        options.description ??
        `Same key and request ⇒ the first answer is replayed (Idempotent-Replayed: true)${options.secretInAnswer ? ', its secret included (kept encrypted until the replay window ends)' : ''}; another request with the key ⇒ 409 idempotency-key-reused.`
      }`,
    }),
  );
}

@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly reflector: Reflector,
    private readonly repository: IdempotencyRepository,
    private readonly sealed: SealedResponses,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const route = this.reflector.get<{ operation: string; secretInAnswer: boolean; secretFields: string[] } | undefined>(OPERATION, context.getHandler());
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & { principal: Principal; idempotency?: IdempotencyHold }>();
    const reply = http.getResponse<FastifyReply>();
    const header = request.headers['idempotency-key'];
    const key = Array.isArray(header) ? header[0] : header;
    if (!route || key === undefined) return next.handle();
    const principalId = `${request.principal.type}:${request.principal.id}`;
    const hold = this.config.idempotencyHoldSeconds;
    const claim = await claimIdempotencyKey(
      this.repository,
      principalId,
      key,
      { operation: route.operation, params: request.params ?? {}, body: withoutSecrets(request.body ?? null, route.secretFields) },
      hold,
    );
    if (!claim.run) {
      const existing = claim.replay;
      const status = existing.responseStatus!;
      const body = route.secretInAnswer && status < 400 ? this.sealed.open(principalId, key, existing.responseBody as SealedResponse) : existing.responseBody;
      return this.replay(reply, status, body, existing.responseHeaders ?? {});
    }
    request.idempotency = { principalId, key, ...(claim.resumeActionId ? { resumeActionId: claim.resumeActionId } : {}) };
    // The hold is renewed while the request runs: if this process dies, a retry takes the key over within `hold` seconds.
    const heartbeat = setInterval(() => void this.repository.renewHold(principalId, key, hold).catch(() => undefined), (hold * 1000) / 3);
    heartbeat.unref();
    return next.handle().pipe(
      mergeMap((body) => {
        const kept = route.secretInAnswer ? this.sealed.seal(principalId, key, body ?? null) : (body ?? null);
        return from(this.repository.complete(principalId, key, reply.statusCode, kept, replayedHeaders(reply)).then(() => body));
      }),
      catchError((error: unknown) => from(this.onError(principalId, key, error)).pipe(mergeMap(() => throwError(() => error)))),
      finalize(() => clearInterval(heartbeat)),
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
    // A request that found the work still held elsewhere (request-in-progress) leaves the key free for the next retry.
    if (error instanceof Problem && error.status < 500 && error.slug !== 'validation-failed' && error.slug !== 'request-in-progress') {
      const problem: StoredProblem = {
        problem: { status: error.status, slug: error.slug, title: error.title, detail: error.detail, extras: error.extras, headers: error.headers },
      };
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
