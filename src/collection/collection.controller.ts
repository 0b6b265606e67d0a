import { Body, Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Access, CurrentRequest, RequestContext } from '../access/access.decorator';
import { ApiProblems } from '../common/api-problems.decorator';
import { ProblemResponse } from '../common/problem.dto';
import { CollectionService } from './collection.service';
import {
  CollectionParams,
  CollectionResponse,
  CollectionRunQueuedResponse,
  CollectionStreamParams,
  CollectionStreamResponse,
  UpdateCollectionStreamDto,
} from './dto/collection.dto';

@ApiTags('telemetry')
@ApiProblems()
@ApiNotFoundResponse({ type: ProblemResponse, description: "No such tenant (or outside the caller's tenant list), or no such source." })
@Controller('v1/tenants/:id/collection')
export class CollectionController {
  constructor(private readonly collection: CollectionService) {}

  @Get()
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({ type: CollectionResponse, description: 'Per source: enabled, subscription, schedule, cursor, last run, lag, gaps, last error.' })
  get(@Param() p: CollectionParams, @CurrentRequest() ctx: RequestContext): Promise<CollectionResponse> {
    return this.collection.status(ctx.principal, p.id);
  }

  @Patch(':source')
  @Access('admin')
  @ApiOkResponse({ type: CollectionStreamResponse, description: 'Enabled or disabled, or its interval changed (audited).' })
  update(
    @Param() p: CollectionStreamParams,
    @Body() body: UpdateCollectionStreamDto,
    @CurrentRequest() ctx: RequestContext,
  ): Promise<CollectionStreamResponse> {
    return this.collection.update(ctx.principal, p.id, p.source, body, ctx);
  }

  @Post(':source/run')
  @HttpCode(202)
  @Access('responder', 'admin')
  @ApiAcceptedResponse({ type: CollectionRunQueuedResponse, description: 'A run is queued; it shows in GET …/collection when it finishes.' })
  @ApiConflictResponse({
    type: ProblemResponse,
    description:
      '`collection-disabled`: this source is disabled for the tenant, or the tenant is. `capability-unavailable`: the source is skipped (its capability is unlicensed or forbidden for the tenant).',
  })
  run(@Param() p: CollectionStreamParams, @CurrentRequest() ctx: RequestContext): Promise<CollectionRunQueuedResponse> {
    return this.collection.runNow(ctx.principal, p.id, p.source);
  }
}
