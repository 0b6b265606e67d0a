import { Controller, Get, Header, Param, Query, Req, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ProblemResponse } from '../common/problem.dto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Access, CurrentRequest, Public, RequestContext } from '../access/access.decorator';
import { TenantIdParam } from '../integrations/defender-endpoint/dto/device.dto';
import { OnboardingService } from './onboarding.service';
import { ApiProblems } from '../common/api-problems.decorator';
import { problems } from '../common/problem';
import { ConsentCallbackQuery, ManifestQueryDto, ManifestResponse } from './dto/manifest.dto';
import { azureCliScript, manifestOf, requiredResourceAccess, UnknownModuleError, type ManifestModuleView } from './manifest';

/** Onboarding a tenant: what to grant Cordon's app registration, module by module (README "Tenants"). */
@ApiProblems()
@ApiNotFoundResponse({ type: ProblemResponse, description: "No such tenant (or outside the caller's tenant list)." })
@Controller()
export class OnboardingController {
  constructor(private readonly onboarding: OnboardingService) {}

  @Get('v1/tenants/:id/onboarding')
  @ApiTags('tenants')
  @Access('admin')
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({
    description:
      "The tenant's admin-consent link (for its cloud, with a signed state valid 24 h), the redirect URI to register on the app, and per module: `ready`, `missing-permissions` (naming them), `licence-absent`, `unreachable` or `pending`.",
  })
  tenantOnboarding(@Param() p: TenantIdParam, @CurrentRequest() ctx: RequestContext) {
    return this.onboarding.onboarding(ctx.principal, p.id);
  }

  @Get('v1/onboarding/consent-callback')
  @ApiTags('tenants')
  @Public()
  @ApiOperation({
    summary: 'Admin-consent callback',
    description: "No authentication: Microsoft sends the admin's browser here. The signed `state` names the tenant.",
  })
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ description: "Records Microsoft's consent outcome (audited as `tenant.consent`) and, when granted, probes the tenant at once." })
  consentCallback(@Query() q: ConsentCallbackQuery, @Req() request: FastifyRequest) {
    return this.onboarding.callback({ ...q }, { requestId: request.id });
  }

  @Get('v1/onboarding/manifest')
  @ApiTags('tenants')
  @Access('admin')
  @Header('Cache-Control', 'no-store')
  @ApiProduces('application/json', 'text/x-shellscript')
  @ApiOkResponse({
    type: ManifestResponse,
    description:
      'Per module, the application permissions it needs on each resource, by name and app-role id, why, and whether they can change the tenant. `format=required-resource-access` answers only that JSON; `format=azure-cli` a script that creates the app registration.',
  })
  manifest(@Query() q: ManifestQueryDto, @Res({ passthrough: true }) reply: FastifyReply): ManifestResponse | unknown[] | string {
    let modules: ManifestModuleView[];
    try {
      modules = manifestOf(q.modules);
    } catch (error) {
      if (error instanceof UnknownModuleError) throw problems.validation([{ field: 'modules', message: error.message }]);
      throw error;
    }
    if (q.format === 'required-resource-access') return requiredResourceAccess(modules);
    if (q.format === 'azure-cli') {
      reply.type('text/x-shellscript; charset=utf-8');
      return azureCliScript(modules);
    }
    return { modules, requiredResourceAccess: requiredResourceAccess(modules) };
  }
}
