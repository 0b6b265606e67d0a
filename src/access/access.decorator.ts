import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiOperation, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ProblemResponse } from '../common/problem.dto';
import { actorOf, type Principal, type PrincipalActor } from './principal';
import type { Role } from './roles';

export const ACCESS_KEY = 'cordon:access';
export type AccessRule = { public: true } | { public: false; roles: readonly Role[] };

/**
 * Declares who may call a route and documents it in OpenAPI. Every route needs exactly one of
 * `@Access(...)` or `@Public()`; the global guard refuses a route with neither.
 */
export function Access(...roles: [Role, ...Role[]]) {
  return applyDecorators(
    SetMetadata(ACCESS_KEY, { public: false, roles } satisfies AccessRule),
    ApiBearerAuth('bearer'),
    ApiOperation({ description: `Roles: ${roles.join(', ')}.` }),
    ApiUnauthorizedResponse({ description: 'Missing, invalid, expired or revoked credential.', type: ProblemResponse }),
    ApiForbiddenResponse({ description: `The caller holds none of: ${roles.join(', ')}.`, type: ProblemResponse }),
  );
}

export function Public() {
  return SetMetadata(ACCESS_KEY, { public: true } satisfies AccessRule);
}

/**
 * Who asked, and the request id that ties logs, audit entries and the response together: what a
 * service needs to write its audit entries (an audit-log `AuditContext`) plus the principal.
 */
export interface RequestContext {
  principal: Principal;
  actor: PrincipalActor;
  requestId: string;
}

/** The principal, its actor and the request id of an authenticated request. */
export function requestContextOf(request: { principal: Principal; id: string }): RequestContext {
  return { principal: request.principal, actor: actorOf(request.principal), requestId: request.id };
}

/** The principal and request id of the current request (for services that write audit entries). */
export const CurrentRequest = createParamDecorator((_: unknown, ctx: ExecutionContext): RequestContext => requestContextOf(ctx.switchToHttp().getRequest()));

/** The authenticated principal of the request. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<{ principal: Principal }>().principal;
});
