import { Controller, Get, Header, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Access } from '../access/access.decorator';
import { ApiProblems } from '../common/api-problems.decorator';
import { problems } from '../common/problem';
import { ManifestQueryDto, ManifestResponse } from './dto/manifest.dto';
import { azureCliScript, manifestOf, requiredResourceAccess, UnknownModuleError, type ManifestModuleView } from './manifest';

/** Onboarding a tenant: what to grant Cordon's app registration, module by module (README "Tenants"). */
@ApiProblems()
@Controller()
export class OnboardingController {
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
