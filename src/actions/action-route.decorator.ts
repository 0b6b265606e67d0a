import {
  applyDecorators,
  CallHandler,
  createParamDecorator,
  Delete,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  Patch,
  Post,
  SetMetadata,
  UseInterceptors,
} from '@nestjs/common';
import { ApiAcceptedResponse, ApiConflictResponse, ApiHeader, ApiOkResponse, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { map, Observable } from 'rxjs';
import { Access, requestContextOf } from '../access/access.decorator';
import type { Principal } from '../access/principal';
import { ProblemResponse } from '../common/problem.dto';
import { Idempotent, IdempotencyHold } from '../idempotency/idempotent.interceptor';
import type { ActionCall } from './action-admission.service';
import type { ActionAnswer } from './action-view';
import { ActionResponse } from './dto/action.dto';

const ACTION_TYPE = 'cordon:action-type';

/** `Prefer: wait=N` (RFC 7240), capped at 60 seconds. */
function waitSeconds(header: string | string[] | undefined): number | undefined {
  const prefer = Array.isArray(header) ? header.join(',') : header;
  const match = prefer ? /(?:^|[,;\s])wait=(\d+)/i.exec(prefer) : null;
  return match ? Math.min(60, Number(match[1])) : undefined;
}

/** Turns an `ActionAnswer` into HTTP: 202 Accepted, or 200 with the final state or a dry run's plan; `Location` of the action. */
@Injectable()
export class ActionAnswerInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler<ActionAnswer>): Observable<ActionResponse> {
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    return next.handle().pipe(
      map(({ action, outcome }) => {
        reply.status(outcome === 'accepted' ? 202 : 200).header('Location', `/v1/actions/${action.id}`);
        return action;
      }),
    );
  }
}

/** A route whose handler answers an `ActionAnswer` (an action request, an approval). */
export const AnswersAction = () => UseInterceptors(ActionAnswerInterceptor);

/** `Prefer: wait=N` of the current request, in seconds (at most 60). */
export const PreferWait = createParamDecorator((_: unknown, ctx: ExecutionContext): number | undefined =>
  waitSeconds(ctx.switchToHttp().getRequest<FastifyRequest>().headers.prefer),
);

/** The call of an `@ActionRoute`: the action type it creates, who asks, and `Prefer: wait`. */
export const CurrentActionCall = createParamDecorator((_: unknown, ctx: ExecutionContext): ActionCall => {
  const request = ctx.switchToHttp().getRequest<FastifyRequest & { principal: Principal; idempotency?: IdempotencyHold }>();
  return {
    type: Reflect.getMetadata(ACTION_TYPE, ctx.getHandler()) as string,
    context: requestContextOf(request),
    waitSeconds: waitSeconds(request.headers.prefer),
    ...(request.idempotency ? { idempotency: request.idempotency } : {}),
  };
});

export interface ActionRouteDocs {
  /** What the 202 answer means for this route (after "Accepted; `Location: /v1/actions/{id}`."). */
  accepted?: string;
  /** 409 problems of this route's handler, before those every action route may answer. */
  conflicts?: string;
  /** Body fields that are secrets: kept out of the Idempotency-Key's stored fingerprint (see `Idempotent`). */
  secretFields?: string[];
  /**
   * The HTTP method (default POST): PATCH for an action that updates a Microsoft object in place (an alert, an
   * incident), DELETE for one that removes it (an indicator; the body still carries the reason).
   */
  method?: 'POST' | 'PATCH' | 'DELETE';
}

/**
 * A route that requests a response action of `type` (ARCHITECTURE.md §5.2): `POST path` (or `PATCH`, `DELETE`) for analysts and
 * responders, `Idempotency-Key` on the action type, `Prefer: wait=N`, and the answers documented. The
 * handler takes `@CurrentActionCall()` and hands it, with the target and body, to ActionAdmissionService.
 */
export function ActionRoute(path: string, type: string, docs: ActionRouteDocs = {}) {
  const accepted = docs.accepted ?? '200 with the final state when `Prefer: wait=N` saw it finish, or for a dry run.';
  const conflicts = [docs.conflicts, '`protected-target`, `capability-unavailable`, `tenant-disabled`, `idempotency-key-reused`, `request-in-progress`.']
    .filter(Boolean)
    .join(', ');
  return applyDecorators(
    docs.method === 'PATCH' ? Patch(path) : docs.method === 'DELETE' ? Delete(path) : Post(path),
    ApiTags('actions'),
    Access('analyst', 'responder'),
    SetMetadata(ACTION_TYPE, type),
    // Outside the answer's mapping, so that a replay repeats the status and Location it set.
    Idempotent(type, {
      description: 'Same key and body ⇒ the first answer is replayed (Idempotent-Replayed: true).',
      ...(docs.secretFields ? { secretFields: docs.secretFields } : {}),
    }),
    AnswersAction(),
    ApiAcceptedResponse({ type: ActionResponse, description: `Accepted; \`Location: /v1/actions/{id}\`. ${accepted}` }),
    ApiOkResponse({ type: ActionResponse, description: 'Finished within `Prefer: wait=N`, or a dry run.' }),
    ApiConflictResponse({ type: ProblemResponse, description: conflicts }),
    ApiTooManyRequestsResponse({ type: ProblemResponse, description: '`action-rate-limited`, with Retry-After.' }),
    ApiHeader({ name: 'Prefer', required: false, description: '`wait=N` (N ≤ 60): answer with the final state if it is reached within N seconds.' }),
  );
}
