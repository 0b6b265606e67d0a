import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Access, CurrentRequest, RequestContext } from '../../access/access.decorator';
import { ApiProblems } from '../../common/api-problems.decorator';
import type { Page } from '../../common/paging';
import { AlertPage, AlertQueryDto, AlertResponse } from './dto/security.dto';
import { SecurityTelemetryService } from './security-telemetry.service';

@ApiTags('telemetry')
@ApiProblems()
@Controller('v1/alerts')
export class AlertsController {
  constructor(private readonly security: SecurityTelemetryService) {}

  @Get()
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({ type: AlertPage, description: 'Defender XDR and Purview alerts (latest version of each), newest first by creation.' })
  list(@Query() query: AlertQueryDto, @CurrentRequest() ctx: RequestContext): Promise<Page<AlertResponse>> {
    return this.security.alerts(ctx.principal, query);
  }
}
