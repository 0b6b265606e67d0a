import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Access, CurrentRequest, RequestContext } from '../../access/access.decorator';
import { ApiProblems } from '../../common/api-problems.decorator';
import { Page } from '../../common/paging';
import { ProblemResponse } from '../../common/problem.dto';
import { Idempotent } from '../../idempotency/idempotent.interceptor';
import { ActionQueriesService } from '../action-queries.service';
import { ActionIdParam, ActionResponse } from '../dto/action.dto';
import {
  ContainmentPage,
  ContainmentQueryDto,
  ContainmentResponse,
  ExtendReleaseDto,
  KeepReleaseDto,
  VerifyQueryDto,
  ContainmentsVerifyResponse,
} from './containments.dto';
import { ContainmentsService } from './containments.service';
import { ReleaseScheduler } from './release-scheduler.service';

const NOT_SCHEDULED = '`release-not-scheduled`: the action has no automatic release, or it ran, failed or was kept already.';

/** Time-boxed containment (extend, keep) and the containments board (README "Time-boxed containment and the containments board"). */
@ApiProblems()
@ApiNotFoundResponse({ type: ProblemResponse, description: "No such action or tenant (or outside the caller's tenant list)." })
@Controller()
export class ReleasesController {
  constructor(
    private readonly scheduler: ReleaseScheduler,
    private readonly queries: ActionQueriesService,
    private readonly containments: ContainmentsService,
  ) {}

  @Post('v1/actions/:id/extend')
  @ApiTags('actions')
  @HttpCode(200)
  @Access('responder')
  @Idempotent('actions.extend')
  @ApiOkResponse({ type: ActionResponse, description: 'The release is due later; `release.scheduledAt` is the new time. Audited `action.release-extended`.' })
  @ApiConflictResponse({ type: ProblemResponse, description: `${NOT_SCHEDULED} \`release-not-later\`: the new time is not after the current one.` })
  async extend(@Param() p: ActionIdParam, @Body() b: ExtendReleaseDto, @CurrentRequest() ctx: RequestContext): Promise<ActionResponse> {
    await this.scheduler.extend(p.id, b, ctx);
    return this.queries.get(p.id, ctx);
  }

  @Post('v1/actions/:id/keep')
  @ApiTags('actions')
  @HttpCode(200)
  @Access('responder')
  @Idempotent('actions.keep')
  @ApiOkResponse({
    type: ActionResponse,
    description: 'The automatic release is cancelled (`release.status` kept); the containment stays. Audited `action.release-kept`.',
  })
  @ApiConflictResponse({ type: ProblemResponse, description: NOT_SCHEDULED })
  async keep(@Param() p: ActionIdParam, @Body() b: KeepReleaseDto, @CurrentRequest() ctx: RequestContext): Promise<ActionResponse> {
    await this.scheduler.keep(p.id, b.reason, ctx);
    return this.queries.get(p.id, ctx);
  }

  @Get('v1/containments')
  @ApiTags('actions')
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({
    type: ContainmentPage,
    description: 'One row per contained target (the latest containing action per tenant, type and target), newest first.',
  })
  list(@Query() q: ContainmentQueryDto, @CurrentRequest() ctx: RequestContext): Promise<Page<ContainmentResponse>> {
    return this.containments.list(q, ctx);
  }

  @Post('v1/containments/verify')
  @ApiTags('actions')
  @HttpCode(200)
  @Access('admin')
  @ApiOkResponse({
    type: ContainmentsVerifyResponse,
    description: "Reads the tenant's active containments back at Microsoft now (the daily job's work) and answers the counts.",
  })
  @ApiConflictResponse({ type: ProblemResponse, description: '`tenant-disabled`.' })
  verify(@Query() q: VerifyQueryDto, @CurrentRequest() ctx: RequestContext): Promise<ContainmentsVerifyResponse> {
    return this.containments.verifyNow(q.tenantId, ctx);
  }
}
