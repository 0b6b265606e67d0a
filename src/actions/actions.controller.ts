import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiConflictResponse, ApiForbiddenResponse, ApiHeader, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Access, CurrentRequest, RequestContext } from '../access/access.decorator';
import { ApiProblems } from '../common/api-problems.decorator';
import { Page } from '../common/paging';
import { ProblemResponse } from '../common/problem.dto';
import { ActionAdmissionService, ActionCall } from './action-admission.service';
import { ActionDecisionsService } from './action-decisions.service';
import { ActionQueriesService } from './action-queries.service';
import { ActionRoute, AnswersAction, CurrentActionCall, PreferWait } from './action-route.decorator';
import { TimeboxedActionRequestDto } from './releases/release-window';
import { ActionIdParam, ActionPage, ActionQueryDto, ActionRequestDto, ActionResponse, DecisionDto, TenantUserParams } from './dto/action.dto';

@ApiProblems()
@ApiNotFoundResponse({ type: ProblemResponse, description: "No such tenant or action (or outside the caller's tenant list)." })
@Controller()
export class ActionsController {
  constructor(
    private readonly admission: ActionAdmissionService,
    private readonly decisions: ActionDecisionsService,
    private readonly queries: ActionQueriesService,
  ) {}

  @ActionRoute('v1/tenants/:id/users/:user/isolate', 'user.isolate')
  isolate(@Param() p: TenantUserParams, @Body() b: TimeboxedActionRequestDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.user, body: b });
  }

  @ActionRoute('v1/tenants/:id/users/:user/release', 'user.release')
  release(@Param() p: TenantUserParams, @Body() b: ActionRequestDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.user, body: b });
  }

  @ActionRoute('v1/tenants/:id/users/:user/revoke-sessions', 'user.revoke-sessions')
  revokeSessions(@Param() p: TenantUserParams, @Body() b: ActionRequestDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.user, body: b });
  }

  @ActionRoute('v1/tenants/:id/users/:user/disable', 'user.disable')
  disable(@Param() p: TenantUserParams, @Body() b: TimeboxedActionRequestDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.user, body: b });
  }

  @ActionRoute('v1/tenants/:id/users/:user/enable', 'user.enable')
  enable(@Param() p: TenantUserParams, @Body() b: ActionRequestDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.user, body: b });
  }

  @ActionRoute('v1/tenants/:id/users/:user/confirm-compromised', 'user.confirm-compromised')
  confirmCompromised(@Param() p: TenantUserParams, @Body() b: ActionRequestDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.user, body: b });
  }

  @Get('v1/actions')
  @ApiTags('actions')
  @Access('auditor', 'analyst', 'responder', 'admin')
  @ApiOkResponse({ type: ActionPage, description: 'Newest first.' })
  list(@Query() q: ActionQueryDto, @CurrentRequest() ctx: RequestContext): Promise<Page<ActionResponse>> {
    return this.queries.list(q, ctx);
  }

  @Get('v1/actions/:id')
  @ApiTags('actions')
  @Access('auditor', 'analyst', 'responder', 'admin')
  @ApiOkResponse({ type: ActionResponse })
  get(@Param() p: ActionIdParam, @CurrentRequest() ctx: RequestContext): Promise<ActionResponse> {
    return this.queries.get(p.id, ctx);
  }

  @Post('v1/actions/:id/approve')
  @ApiTags('actions')
  @Access('responder')
  @ApiAcceptedResponse({ type: ActionResponse, description: 'Approved; it runs now. `Location: /v1/actions/{id}`.' })
  @ApiOkResponse({ type: ActionResponse, description: 'Approved, and finished within `Prefer: wait=N`.' })
  @ApiForbiddenResponse({ type: ProblemResponse, description: '`self-approval`: a request is approved by another responder than its requester.' })
  @ApiConflictResponse({ type: ProblemResponse, description: '`action-not-awaiting-approval`.' })
  @ApiHeader({ name: 'Prefer', required: false, description: '`wait=N` (N ≤ 60): answer with the final state if it is reached within N seconds.' })
  @AnswersAction()
  approve(@Param() p: ActionIdParam, @CurrentRequest() ctx: RequestContext, @PreferWait() wait?: number) {
    return this.decisions.approve(p.id, ctx, wait);
  }

  @Post('v1/actions/:id/reject')
  @ApiTags('actions')
  @HttpCode(200)
  @Access('responder')
  @ApiOkResponse({ type: ActionResponse, description: 'Rejected; the action ends `rejected` with the reason.' })
  @ApiForbiddenResponse({ type: ProblemResponse, description: '`self-approval`: a request is rejected by another responder than its requester.' })
  @ApiConflictResponse({ type: ProblemResponse, description: '`action-not-awaiting-approval`.' })
  reject(@Param() p: ActionIdParam, @Body() b: DecisionDto, @CurrentRequest() ctx: RequestContext): Promise<ActionResponse> {
    return this.decisions.reject(p.id, ctx, b.reason);
  }

  @Post('v1/actions/:id/cancel')
  @ApiTags('actions')
  @HttpCode(200)
  @Access('responder')
  @ApiOkResponse({ type: ActionResponse })
  @ApiConflictResponse({ type: ProblemResponse, description: '`action-finished`.' })
  cancel(@Param() p: ActionIdParam, @Body() b: DecisionDto, @CurrentRequest() ctx: RequestContext): Promise<ActionResponse> {
    return this.decisions.cancel(p.id, ctx, b.reason);
  }
}
