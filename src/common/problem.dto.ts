import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

class FieldErrorDto {
  @ApiProperty({ example: 'roles.0' }) field: string;
  @ApiProperty({ example: 'each value in roles must be one of auditor, analyst, responder, admin' }) message: string;
}

/** RFC 9457 problem details, as every error response carries them. */
export class ProblemResponse {
  @ApiProperty({ example: '/problems/validation-failed', description: 'Stable, machine-readable problem type.' })
  type: string;

  @ApiProperty({ example: 'Validation failed' })
  title: string;

  @ApiProperty({ example: 400 })
  status: number;

  @ApiPropertyOptional({ example: 'The request is not valid; see errors.' })
  detail?: string;

  @ApiProperty({ example: '/v1/api-keys' })
  instance: string;

  @ApiProperty({ example: '5b0c8f5e-2f53-4a55-9c3e-8d7b7f3c6a10', description: 'Same as the X-Request-Id header.' })
  requestId: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Present on validation-failed.' })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({ description: 'Present on internal-error: quote it when reporting the problem.' })
  errorId?: string;
}
