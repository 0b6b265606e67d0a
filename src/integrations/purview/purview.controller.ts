import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Access, CurrentRequest, RequestContext } from '../../access/access.decorator';
import { ApiProblems } from '../../common/api-problems.decorator';
import type { Page } from '../../common/paging';
import { ProblemResponse } from '../../common/problem.dto';
import {
  AuditSearchListQuery,
  AuditSearchPage,
  AuditSearchParams,
  AuditSearchResponse,
  BackfillDto,
  BackfillParams,
  CreateAuditSearchDto,
  TenantAuditSearchesParams,
} from './dto/audit-search.dto';
import { Idempotent } from '../../idempotency/idempotent.interceptor';
import { PurviewSearchService } from './purview-search.service';

/** `202 Accepted` with `Location` of the search (ARCHITECTURE.md §4.5). */
async function accepted(r: FastifyReply, search: Promise<AuditSearchResponse>): Promise<AuditSearchResponse> {
  const body = await search;
  r.status(202).header('Location', `/v1/tenants/${body.tenantId}/audit-searches/${body.id}`);
  return body;
}

@ApiTags('telemetry')
@ApiProblems()
@ApiNotFoundResponse({ type: ProblemResponse, description: "No such tenant (or outside the caller's tenant list), search or gap." })
@Controller('v1/tenants/:id')
export class PurviewController {
  constructor(private readonly searches: PurviewSearchService) {}

  @Post('audit-searches')
  @Access('analyst', 'responder', 'admin')
  @Idempotent('audit-searches.create')
  @ApiAcceptedResponse({
    type: AuditSearchResponse,
    description: 'The search is queued; `Location: /v1/tenants/{id}/audit-searches/{searchId}` shows its status and counts while it runs.',
  })
  @ApiConflictResponse({
    type: ProblemResponse,
    description: '`capability-unavailable` (Purview audit search not licensed or not consented, or not the global cloud), `tenant-disabled`.',
  })
  create(
    @Param() p: TenantAuditSearchesParams,
    @Body() body: CreateAuditSearchDto,
    @CurrentRequest() ctx: RequestContext,
    @Res({ passthrough: true }) r: FastifyReply,
  ): Promise<AuditSearchResponse> {
    return accepted(r, this.searches.create(ctx.principal, p.id, body, ctx));
  }

  @Get('audit-searches')
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({ type: AuditSearchPage, description: "The tenant's audit searches, newest first." })
  list(@Param() p: TenantAuditSearchesParams, @Query() query: AuditSearchListQuery, @CurrentRequest() ctx: RequestContext): Promise<Page<AuditSearchResponse>> {
    return this.searches.list(ctx.principal, p.id, query);
  }

  @Get('audit-searches/:searchId')
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({ type: AuditSearchResponse, description: "Status, Microsoft's status and the record counts, also while it runs." })
  get(@Param() p: AuditSearchParams, @CurrentRequest() ctx: RequestContext): Promise<AuditSearchResponse> {
    return this.searches.get(ctx.principal, p.id, p.searchId);
  }

  @Post('collection/:source/backfill')
  @Access('responder', 'admin')
  @Idempotent('collection.backfill')
  @ApiAcceptedResponse({
    type: AuditSearchResponse,
    description: "An audit search over the gap's window is queued; its `backfill.covered` turns true when it has stored the records.",
  })
  @ApiConflictResponse({
    type: ProblemResponse,
    description: '`backfill-exists` (with `searchId`), `backfill-unsupported`, `capability-unavailable`, `tenant-disabled`.',
  })
  backfill(
    @Param() p: BackfillParams,
    @Body() body: BackfillDto,
    @CurrentRequest() ctx: RequestContext,
    @Res({ passthrough: true }) r: FastifyReply,
  ): Promise<AuditSearchResponse> {
    return accepted(r, this.searches.backfill(ctx.principal, p.id, p.source, body.gapId, ctx));
  }
}
