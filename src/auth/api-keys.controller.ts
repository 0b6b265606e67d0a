import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/api-problems.decorator';
import { Idempotent } from '../idempotency/idempotent.interceptor';
import { Page, PageQueryDto } from '../common/paging';
import { ProblemResponse } from '../common/problem.dto';
import { Access, CurrentPrincipal, CurrentRequest, RequestContext } from '../access/access.decorator';
import type { Principal } from '../access/principal';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyIdParam, ApiKeyPage, ApiKeyResponse, CreateApiKeyDto, CreatedApiKeyResponse, WhoAmIResponse } from './dto/api-key.dto';

@ApiTags('api-keys')
@ApiProblems()
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Post()
  @Access('admin')
  @Idempotent('api-keys.create', { secretInAnswer: true })
  @ApiCreatedResponse({ type: CreatedApiKeyResponse, description: 'The key is in `key`, shown this once.' })
  create(@Body() body: CreateApiKeyDto, @CurrentRequest() context: RequestContext): Promise<CreatedApiKeyResponse> {
    return this.apiKeys.create(body, context);
  }

  @Get()
  @Access('admin')
  @ApiOkResponse({ type: ApiKeyPage })
  list(@Query() query: PageQueryDto): Promise<Page<ApiKeyResponse>> {
    return this.apiKeys.list(query);
  }

  /** The caller's own identity and roles (any role): what the console shows depends on it; the server still checks every call. */
  @Get('me')
  @Access('auditor', 'analyst', 'responder', 'admin')
  @ApiOkResponse({ type: WhoAmIResponse })
  me(@CurrentPrincipal() principal: Principal): WhoAmIResponse {
    return { type: principal.type, id: principal.id, name: principal.name, roles: [...principal.roles], tenantIds: principal.tenantIds };
  }

  @Delete(':id')
  @HttpCode(204)
  @Access('admin')
  @ApiNoContentResponse({ description: 'Revoked; the key is refused from now on.' })
  @ApiNotFoundResponse({ type: ProblemResponse })
  revoke(@Param() params: ApiKeyIdParam, @CurrentRequest() context: RequestContext): Promise<void> {
    return this.apiKeys.revoke(params.id, context);
  }
}
