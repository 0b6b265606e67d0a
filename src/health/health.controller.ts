import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/access.decorator';
import { ProblemResponse } from '../common/problem.dto';
import { HealthService } from './health.service';
import { MetricsService } from './metrics.service';

export class HealthResponse {
  @ApiProperty({ example: 'ok' }) status: 'ok';
  @ApiProperty({ example: { database: 'ok', jobs: 'ok' }, required: false }) checks?: Record<string, 'ok'>;
}

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
