import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../access/access.decorator';
import { ProblemResponse } from '../common/problem.dto';
import { HealthResponse } from './dto/health.dto';
import { HealthService } from './health.service';
import { MetricsService } from './metrics.service';

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthService,
    private readonly metrics: MetricsService,
  ) {}

  @Get('health/live')
  @Public()
  @ApiOperation({ summary: 'Liveness', description: 'Answers 200 while the process runs; no dependency is checked.' })
  @ApiOkResponse({ type: HealthResponse, description: 'The process is up.' })
  live(): HealthResponse {
    return { status: 'ok' };
  }

  @Get('health/ready')
  @Public()
  @ApiOperation({ summary: 'Readiness', description: 'Answers 200 when the database and the job queue answer, else 503.' })
  @ApiOkResponse({ type: HealthResponse, description: 'The database and the job queue answer.' })
  @ApiServiceUnavailableResponse({ type: ProblemResponse, description: 'A dependency does not answer.' })
  ready(): Promise<HealthResponse> {
    return this.health.ready();
  }

  @Get('metrics')
  @Public()
  @ApiExcludeEndpoint()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  render(): Promise<string> {
    return this.metrics.renderOnApiPort();
  }
}
