import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiConflictResponse, ApiHeader, ApiNotFoundResponse, ApiOkResponse, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Access, CurrentRequest, RequestContext } from '../auth/access.decorator';
import { ApiProblems } from '../common/api-problems.decorator';
import { Page } from '../common/paging';
import { ProblemResponse } from '../common/problem.dto';
import { ActionsService } from './actions.service';
import { ActionIdParam, ActionPage, ActionQueryDto, ActionRequestDto, ActionResponse, DecisionDto, TenantUserParams } from './dto/action.dto';
import { reply, waitSeconds } from './http-result';

const USER_ACTIONS = {
  isolate: 'user.isolate',
  release: 'user.release',
  'revoke-sessions': 'user.revoke-sessions',
  disable: 'user.disable',
  enable: 'user.enable',
  'confirm-compromised': 'user.confirm-compromised',
} as const;

/** Documents what every create route answers. */
function ActionCreated() {
  return (target: object, key: string | symbol, descriptor: PropertyDescriptor) => {
    ApiAcceptedResponse({ type: ActionResponse, description: 'Accepted; `Location: /v1/actions/{id}`. 200 with the final state when `Prefer: wait=N` saw it finish, or for a dry run.' })(target, key, descriptor);
    ApiOkResponse({ type: ActionResponse, description: 'Finished within `Prefer: wait=N`, or a dry run.' })(target, key, descriptor);
    ApiConflictResponse({ type: ProblemResponse, description: '`protected-target`, `capability-unavailable`, `tenant-disabled`, `idempotency-key-reused`, `request-in-progress`.' })(target, key, descriptor);
    ApiTooManyRequestsResponse({ type: ProblemResponse, description: '`action-rate-limited`, with Retry-After.' })(target, key, descriptor);
    ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Same key and body ⇒ the first answer is replayed (Idempotent-Replayed: true).' })(target, key, descriptor);
    ApiHeader({ name: 'Prefer', required: false, description: '`wait=N` (N ≤ 60): answer with the final state if it is reached within N seconds.' })(target, key, descriptor);
  };
}

@ApiTags('actions')
@ApiProblems()
@ApiNotFoundResponse({ type: ProblemResponse, description: 'No such tenant or action (or outside the caller\'s tenant list).' })
@Controller()
export class ActionsController {
  constructor(private readonly actions: ActionsService) {}

  @Post('v1/tenants/:id/users/:user/isolate')
  @Access('analyst', 'responder')
  @ActionCreated()
  isolate(@Param() p: TenantUserParams, @Body() b: ActionRequestDto, @CurrentRequest() ctx: RequestContext, @Headers() h: Record<string, string>, @Res({ passthrough: true }) r: FastifyReply) {
    return reply(r, this.actions.request({ tenantId: p.id, type: USER_ACTIONS.isolate, requested: p.user, body: b, context: ctx, idempotencyKey: h['idempotency-key'], waitSeconds: waitSeconds(h.prefer) }));
  }

  @Post('v1/tenants/:id/users/:user/release')
  @Access('analyst', 'responder')
  @ActionCreated()
  release(@Param() p: TenantUserParams, @Body() b: ActionRequestDto, @CurrentRequest() ctx: RequestContext, @Headers() h: Record<string, string>, @Res({ passthrough: true }) r: FastifyReply) {
    return reply(r, this.actions.request({ tenantId: p.id, type: USER_ACTIONS.release, requested: p.user, body: b, context: ctx, idempotencyKey: h['idempotency-key'], waitSeconds: waitSeconds(h.prefer) }));
  }

  @Post('v1/tenants/:id/users/:user/revoke-sessions')
  @Access('analyst', 'responder')
  @ActionCreated()
  revokeSessions(@Param() p: TenantUserParams, @Body() b: ActionRequestDto, @CurrentRequest() ctx: RequestContext, @Headers() h: Record<string, string>, @Res({ passthrough: true }) r: FastifyReply) {
    return reply(r, this.actions.request({ tenantId: p.id, type: USER_ACTIONS['revoke-sessions'], requested: p.user, body: b, context: ctx, idempotencyKey: h['idempotency-key'], waitSeconds: waitSeconds(h.prefer) }));
  }

  @Post('v1/tenants/:id/users/:user/disable')
  @Access('analyst', 'responder')
  @ActionCreated()
  disable(@Param() p: TenantUserParams, @Body() b: ActionRequestDto, @CurrentRequest() ctx: RequestContext, @Headers() h: Record<string, string>, @Res({ passthrough: true }) r: FastifyReply) {
    return reply(r, this.actions.request({ tenantId: p.id, type: USER_ACTIONS.disable, requested: p.user, body: b, context: ctx, idempotencyKey: h['idempotency-key'], waitSeconds: waitSeconds(h.prefer) }));
  }

  @Post('v1/tenants/:id/users/:user/enable')
  @Access('analyst', 'responder')
  @ActionCreated()
  enable(@Param() p: TenantUserParams, @Body() b: ActionRequestDto, @CurrentRequest() ctx: RequestContext, @Headers() h: Record<string, string>, @Res({ passthrough: true }) r: FastifyReply) {
    return reply(r, this.actions.request({ tenantId: p.id, type: USER_ACTIONS.enable, requested: p.user, body: b, context: ctx, idempotencyKey: h['idempotency-key'], waitSeconds: waitSeconds(h.prefer) }));
  }

  @Post('v1/tenants/:id/users/:user/confirm-compromised')
  @Access('analyst', 'responder')
  @ActionCreated()
  confirmCompromised(@Param() p: TenantUserParams, @Body() b: ActionRequestDto, @CurrentRequest() ctx: RequestContext, @Headers() h: Record<string, string>, @Res({ passthrough: true }) r: FastifyReply) {
    return reply(r, this.actions.request({ tenantId: p.id, type: USER_ACTIONS['confirm-compromised'], requested: p.user, body: b, context: ctx, idempotencyKey: h['idempotency-key'], waitSeconds: waitSeconds(h.prefer) }));
  }

  @Get('v1/actions')
  @Access('auditor', 'analyst', 'responder', 'admin')
  @ApiOkResponse({ type: ActionPage, description: 'Newest first.' })
  list(@Query() q: ActionQueryDto, @CurrentRequest() ctx: RequestContext): Promise<Page<ActionResponse>> {
    return this.actions.list(q, ctx);
  }

  @Get('v1/actions/:id')
  @Access('auditor', 'analyst', 'responder', 'admin')
  @ApiOkResponse({ type: ActionResponse })
  get(@Param() p: ActionIdParam, @CurrentRequest() ctx: RequestContext): Promise<ActionResponse> {
    return this.actions.get(p.id, ctx);
  }

  @Post('v1/actions/:id/approve')
  @Access('responder')
  @ApiOkResponse({ type: ActionResponse, description: 'Approved; it runs now (202, or 200 with Prefer: wait when finished).' })
  @ApiConflictResponse({ type: ProblemResponse, description: '`action-not-awaiting-approval`.' })
  approve(@Param() p: ActionIdParam, @CurrentRequest() ctx: RequestContext, @Headers() h: Record<string, string>, @Res({ passthrough: true }) r: FastifyReply) {
    return reply(r, this.actions.approve(p.id, ctx, waitSeconds(h.prefer)));
  }

  @Post('v1/actions/:id/reject')
  @HttpCode(200)
  @Access('responder')
  @ApiOkResponse({ type: ActionResponse })
  reject(@Param() p: ActionIdParam, @Body() b: DecisionDto, @CurrentRequest() ctx: RequestContext): Promise<ActionResponse> {
    return this.actions.reject(p.id, ctx, b.reason);
  }

  @Post('v1/actions/:id/cancel')
  @HttpCode(200)
  @Access('responder')
  @ApiOkResponse({ type: ActionResponse })
  @ApiConflictResponse({ type: ProblemResponse, description: '`action-finished`.' })
  cancel(@Param() p: ActionIdParam, @Body() b: DecisionDto, @CurrentRequest() ctx: RequestContext): Promise<ActionResponse> {
    return this.actions.cancel(p.id, ctx, b.reason);
  }
}
