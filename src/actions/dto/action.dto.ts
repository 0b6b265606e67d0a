import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import { IsBoolean, IsIn, IsOptional } from 'class-validator';
import { DateTimeQuery, Text, UuidParam } from '../../common/dto-decorators';
import { PageQueryDto } from '../../common/paging';

export class ActionRequestDto {
  @Text(1000, { description: 'Why: shown to approvers and kept in the audit log.', example: 'INC-4711: impossible travel and MFA fatigue' })
  reason: string;

  @Text(200, { optional: true, example: 'INC-4711' })
  ticket?: string;

  @ApiPropertyOptional({ description: 'Resolve, check policy and capability, read the current state and return the plan; change nothing.' })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}

export class TenantUserParams {
  @UuidParam({ description: 'Cordon tenant id.' })
  id: string;

  @Text(320, {
    pattern: /^[^/\\?#\s]+$/,
    message: 'user must be an object id or a user principal name',
    description: 'A user object id or user principal name.',
    example: 'alice@contoso.com',
  })
  user: string;
}

export class ActionIdParam {
  @UuidParam()
  id: string;
}

export class DecisionDto {
  @Text(1000, { optional: true })
  reason?: string;
}

export const ACTION_STATUSES = ['awaiting_approval', 'queued', 'running', 'succeeded', 'partially_succeeded', 'failed', 'rejected', 'cancelled'] as const;

export class ActionQueryDto extends PageQueryDto {
  @UuidParam({ optional: true }) tenantId?: string;
  @Text(100, { optional: true, example: 'user.isolate' }) type?: string;
  @ApiPropertyOptional({ enum: ACTION_STATUSES }) @IsOptional() @IsIn(ACTION_STATUSES) status?: string;
  @Text(320, { optional: true, description: 'Object id, UPN or device name as requested or resolved.' }) target?: string;
  @Text(200, { optional: true, description: 'Principal id (API key id or Entra object id).' }) requestedBy?: string;
  @DateTimeQuery() since?: Date;
  @DateTimeQuery() until?: Date;
}

class StepResponse {
  @ApiProperty({ example: 'disable-sign-in' }) name: string;
  @ApiProperty({ enum: ['pending', 'running', 'succeeded', 'failed', 'skipped'] }) status: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) startedAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt: string | null;
  @ApiProperty() attempts: number;
  @ApiPropertyOptional({ description: 'The request id Microsoft can trace.' }) microsoftRequestId?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'What happened: summary, verified, ...' }) detail?: Record<string, unknown>;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: '{ code, message, microsoftCode?, microsoftRequestId? }' }) error?: Record<
    string,
    unknown
  >;
}

class ActorDto {
  @ApiProperty({ enum: ['apiKey', 'user', 'system'] }) type: string;
  @ApiProperty() id: string;
  @ApiProperty() name: string;
}

export class ActionResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'user.isolate' }) type: string;
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: '{ requested, id?, display? }' }) target: Record<string, unknown>;
  @ApiProperty({ enum: ACTION_STATUSES }) status: string;
  @ApiProperty({ type: [StepResponse] }) steps: StepResponse[];
  @ApiProperty() reason: string;
  @ApiProperty({ type: String, nullable: true }) ticket: string | null;
  @ApiProperty() dryRun: boolean;
  @ApiProperty({ type: ActorDto }) requestedBy: ActorDto;
  @ApiPropertyOptional({ type: ActorDto }) approvedBy?: ActorDto;
  @ApiPropertyOptional({ type: ActorDto, description: 'Who rejected or cancelled it.' }) decidedBy?: ActorDto;
  @ApiPropertyOptional() decisionReason?: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiPropertyOptional({ format: 'date-time' }) completedAt?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) result?: Record<string, unknown>;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) error?: Record<string, unknown>;
  @ApiPropertyOptional({ format: 'uuid', description: 'An automatic release: the containing action it releases.' }) releaseOf?: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'Time-boxed containment: { type, status: scheduled|running|released|kept|failed, scheduledAt, releaseAfter | releaseAt, actionId? (the release action), extensions?, extendedBy?, keptBy?, keepReason?, error? }.',
  })
  release?: Record<string, unknown>;
}

export class ActionPage {
  @ApiProperty({ type: [ActionResponse] }) items: ActionResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
