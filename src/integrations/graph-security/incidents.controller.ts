import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Access, CurrentRequest, RequestContext } from '../../access/access.decorator';
import { ApiProblems } from '../../common/api-problems.decorator';
import type { Page } from '../../common/paging';
import { IncidentPage, IncidentQueryDto, IncidentResponse } from './dto/security.dto';
import { SecurityTelemetryService } from './security-telemetry.service';

@ApiTags('telemetry')
@ApiProblems()
@Controller('v1/incidents')
export class IncidentsController {
  constructor(private readonly security: SecurityTelemetryService) {}

  @Get()
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({
    type: IncidentPage,
    description: 'Defender XDR incidents (latest version of each) with their collected alert count, newest first by creation.',
  })
  list(@Query() query: IncidentQueryDto, @CurrentRequest() ctx: RequestContext): Promise<Page<IncidentResponse>> {
    return this.security.incidents(ctx.principal, query);
  }
}
