import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Access, CurrentRequest, RequestContext } from '../access/access.decorator';
import { ApiProblems } from '../common/api-problems.decorator';
import type { Page } from '../common/paging';
import { ProblemResponse } from '../common/problem.dto';
import { TenantIdParam } from '../tenants/dto/tenant.dto';
import { DeliveryPage, DeliveryQueryDto, DeliveryResponse, PutWebhookDto, WebhookResponse } from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';

@ApiTags('webhooks')
@ApiProblems()
@ApiNotFoundResponse({ type: ProblemResponse, description: "No such tenant (or outside the caller's tenant list), or no webhook configured." })
@Controller('v1/tenants/:id/webhook')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Get()
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({ type: WebhookResponse, description: "The tenant's webhook (never its secret)." })
  get(@Param() p: TenantIdParam, @CurrentRequest() ctx: RequestContext): Promise<WebhookResponse> {
    return this.webhooks.get(ctx.principal, p.id);
  }

  @Put()
  @Access('admin')
  @ApiOkResponse({ type: WebhookResponse, description: 'Set or replaced whole (audited).' })
  put(@Param() p: TenantIdParam, @Body() body: PutWebhookDto, @CurrentRequest() ctx: RequestContext): Promise<WebhookResponse> {
    return this.webhooks.put(ctx.principal, p.id, body, ctx);
  }

  @Delete()
  @HttpCode(204)
  @Access('admin')
  @ApiNoContentResponse({ description: 'Removed (audited); deliveries still pending are not sent.' })
  remove(@Param() p: TenantIdParam, @CurrentRequest() ctx: RequestContext): Promise<void> {
    return this.webhooks.remove(ctx.principal, p.id, ctx);
  }

  @Get('deliveries')
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({ type: DeliveryPage, description: 'The delivery log, newest first.' })
  deliveries(@Param() p: TenantIdParam, @Query() query: DeliveryQueryDto, @CurrentRequest() ctx: RequestContext): Promise<Page<DeliveryResponse>> {
    return this.webhooks.deliveries(ctx.principal, p.id, query);
  }
}
