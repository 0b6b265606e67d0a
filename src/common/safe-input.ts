import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { idempotencyKeyError } from '../idempotency/idempotency-key';
import { FieldError, problems } from './problem';

/** Deepest nesting of objects and arrays a request body may have; deeper ⇒ 400 before validation runs. */
export const MAX_JSON_DEPTH = 32;

/** A high surrogate not followed by a low one, or a low one not preceded by a high one (UTF-16 code units). */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why a string cannot be taken in, or undefined when it can. PostgreSQL refuses NUL in `text` and
 * `jsonb`, and a lone UTF-16 surrogate has no UTF-8 form: either would fail at the database (or the
 * audit log) long after the request was accepted, so they are refused at the door.
 */
export function unsafeStringReason(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain NUL characters';
  if (UNPAIRED_SURROGATE.test(text)) return 'must not contain unpaired surrogates';
  return undefined;
}

/** A key as a field name: escaped when it is itself unsafe, so the problem body stays printable. */
function fieldName(parent: string, key: string): string {
  const name = unsafeStringReason(key) ? JSON.stringify(key).slice(1, -1) : key;
  return parent ? `${parent}.${name}` : name;
}

/**
 * The first unsafe place in a parsed input (body, query or path parameters): a string or key with NUL
 * or an unpaired surrogate, or nesting deeper than `maxDepth`. Fields are named as validation errors
 * name them (`credential.secret`, `tenantIds.0`); `root` names a value that is itself a bad string.
 * Walks with its own stack, so no input can overflow the call stack.
 */
export function findUnsafeInput(input: unknown, root: string, maxDepth = MAX_JSON_DEPTH): FieldError | undefined {
  const stack: Array<{ value: unknown; field: string; depth: number }> = [{ value: input, field: '', depth: 0 }];
  while (stack.length > 0) {
    const { value, field, depth } = stack.pop()!;
    if (typeof value === 'string') {
      const reason = unsafeStringReason(value);
      if (reason) return { field: field || root, message: reason };
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= maxDepth) return { field: field || root, message: `nests deeper than ${maxDepth} levels` };
    for (const [key, child] of Object.entries(value)) {
      const reason = unsafeStringReason(key);
      if (reason) return { field: fieldName(field, key), message: `is a field name that ${reason}` };
      stack.push({ value: child, field: fieldName(field, key), depth: depth + 1 });
    }
  }
  return undefined;
}

/** Every problem with what a request brings in besides its DTO rules: path, query, body and the headers Cordon keeps. */
export function unsafeInputErrors(request: Pick<FastifyRequest, 'params' | 'query' | 'body' | 'headers'>): FieldError[] {
  const errors = [
    findUnsafeInput(request.params, 'path'),
    findUnsafeInput(request.query, 'query'),
    findUnsafeInput(request.body, 'body'),
    idempotencyKeyError(request.headers['idempotency-key']),
  ];
  return errors.filter((error): error is FieldError => error !== undefined);
}

/**
 * Global, after authentication and before any pipe, interceptor or handler: input that the database
 * could not hold, or that would make validation recurse without end, is `400 validation-failed`.
 */
@Injectable()
export class SafeInputInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const errors = unsafeInputErrors(context.switchToHttp().getRequest<FastifyRequest>());
      if (errors.length > 0) throw problems.validation(errors);
    }
    return next.handle();
  }
}
