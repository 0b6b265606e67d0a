import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Access, CurrentRequest, RequestContext } from '../access/access.decorator';
import { ApiProblems } from '../common/api-problems.decorator';
import { Idempotent } from '../idempotency/idempotent.interceptor';
import { Page, PageQueryDto } from '../common/paging';
import { ProblemResponse } from '../common/problem.dto';
import { CapabilitiesResponse, PolicyDto, PolicyResponse } from './dto/policy.dto';
import { CreateTenantDto, PrivilegedAppDto, TenantIdParam, TenantPage, TenantResponse, UpdateTenantDto } from './dto/tenant.dto';
import { TenantCapabilitiesService } from './tenant-capabilities.service';
import { TenantPoliciesService } from './tenant-policies.service';
import { TenantsService } from './tenants.service';

@ApiTags('tenants')
@ApiProblems()
@ApiNotFoundResponse({ type: ProblemResponse, description: "No such tenant (or outside the caller's tenant list)." })
@Controller('v1/tenants')
export class TenantsController {
  constructor(
    private readonly tenants: TenantsService,
    private readonly capabilities: TenantCapabilitiesService,
    private readonly policies: TenantPoliciesService,
  ) {}

  @Post()
  @Access('admin')
  @Idempotent('tenants.create')
  @ApiCreatedResponse({ type: TenantResponse, description: 'Registered; the connection test and capability probe start at once.' })
  @ApiConflictResponse({ type: ProblemResponse, description: '`tenant-exists`: this app is already registered for that tenant.' })
  create(@Body() body: CreateTenantDto, @CurrentRequest() ctx: RequestContext): Promise<TenantResponse> {
    return this.tenants.create(body, ctx);
  }

  @Get()
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({ type: TenantPage })
  list(@Query() query: PageQueryDto, @CurrentRequest() ctx: RequestContext): Promise<Page<TenantResponse>> {
    return this.tenants.list(ctx.principal, query);
  }

  @Get(':id')
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({ type: TenantResponse })
  get(@Param() p: TenantIdParam, @CurrentRequest() ctx: RequestContext): Promise<TenantResponse> {
    return this.tenants.get(ctx.principal, p.id);
  }

  @Patch(':id')
  @Access('admin')
  @ApiOkResponse({ type: TenantResponse, description: 'Renamed, enabled or disabled, or its credential rotated (then tested again).' })
  update(@Param() p: TenantIdParam, @Body() body: UpdateTenantDto, @CurrentRequest() ctx: RequestContext): Promise<TenantResponse> {
    return this.tenants.update(ctx.principal, p.id, body, ctx);
  }

  @Delete(':id')
  @HttpCode(204)
  @Access('admin')
  @ApiNoContentResponse({ description: 'Collection and actions stop; history is kept.' })
  remove(@Param() p: TenantIdParam, @CurrentRequest() ctx: RequestContext): Promise<void> {
    return this.tenants.remove(ctx.principal, p.id, ctx);
  }

  @Put(':id/privileged-app')
  @Access('admin')
  @ApiOkResponse({
    type: TenantResponse,
    description:
      'The second app registration for the permissions that let an app grant itself more is set (or replaced); the tenant is probed again. Its credential is never returned.',
  })
  setPrivilegedApp(@Param() p: TenantIdParam, @Body() body: PrivilegedAppDto, @CurrentRequest() ctx: RequestContext): Promise<TenantResponse> {
    return this.tenants.setPrivilegedApp(ctx.principal, p.id, body, ctx);
  }

  @Delete(':id/privileged-app')
  @HttpCode(204)
  @Access('admin')
  @ApiNoContentResponse({ description: 'Removed: those capabilities are probed, and run, with the main app registration again.' })
  removePrivilegedApp(@Param() p: TenantIdParam, @CurrentRequest() ctx: RequestContext): Promise<void> {
    return this.tenants.removePrivilegedApp(ctx.principal, p.id, ctx);
  }

  @Get(':id/capabilities')
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({ type: CapabilitiesResponse })
  getCapabilities(@Param() p: TenantIdParam, @CurrentRequest() ctx: RequestContext): Promise<CapabilitiesResponse> {
    return this.capabilities.get(ctx.principal, p.id);
  }

  @Post(':id/capabilities/refresh')
  @HttpCode(200)
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({ type: CapabilitiesResponse, description: 'Probed now; the result.' })
  refreshCapabilities(@Param() p: TenantIdParam, @CurrentRequest() ctx: RequestContext): Promise<CapabilitiesResponse> {
    return this.capabilities.refresh(ctx.principal, p.id, ctx);
  }

  @Get(':id/policy')
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({ type: PolicyResponse })
  getPolicy(@Param() p: TenantIdParam, @CurrentRequest() ctx: RequestContext): Promise<PolicyResponse> {
    return this.policies.get(ctx.principal, p.id);
  }

  @Put(':id/policy')
  @Access('admin')
  @ApiOkResponse({ type: PolicyResponse, description: 'Replaced whole.' })
  putPolicy(@Param() p: TenantIdParam, @Body() body: PolicyDto, @CurrentRequest() ctx: RequestContext): Promise<PolicyResponse> {
    return this.policies.put(ctx.principal, p.id, body, ctx);
  }
}
