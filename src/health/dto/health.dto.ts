import { ApiProperty } from '@nestjs/swagger';

export class HealthResponse {
  @ApiProperty({ example: 'ok' }) status: 'ok';
  @ApiProperty({ example: { database: 'ok', jobs: 'ok' }, required: false }) checks?: Record<string, 'ok'>;
}
