import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { Text, UuidParam } from '../../common/dto-decorators';
import { PageQueryDto } from '../../common/paging';
import { Timeboxed } from './release-window';

export const CONTAINMENT_KINDS = ['user', 'device', 'app'] as const;
export const CONTAINMENT_STATES = ['active', 'released', 'drifted'] as const;

export class ContainmentQueryDto extends PageQueryDto {
  @UuidParam({ optional: true, description: 'Cordon tenant id.' }) tenantId?: string;
  @ApiPropertyOptional({ enum: CONTAINMENT_KINDS }) @IsOptional() @IsIn(CONTAINMENT_KINDS) kind?: (typeof CONTAINMENT_KINDS)[number];
  @ApiPropertyOptional({
    enum: CONTAINMENT_STATES,
    description: 'active: in force as far as Cordon knows; released: its inverse succeeded since; drifted: the last check found it undone at Microsoft.',
  })
  @IsOptional()
  @IsIn(CONTAINMENT_STATES)
  state?: (typeof CONTAINMENT_STATES)[number];
}

export class VerifyQueryDto {
  @UuidParam({ description: 'Cordon tenant id.' }) tenantId: string;
}

export class ReleaseReasonDto {
  @Text(1000, { description: 'Why: kept in the audit log.', example: 'INC-4711: still investigating' })
  reason: string;
}

/** `POST /v1/actions/{id}/extend`: the new window (from now) and why. */
export class ExtendReleaseDto extends Timeboxed(ReleaseReasonDto) {}

/** `POST /v1/actions/{id}/keep`. */
export class KeepReleaseDto extends ReleaseReasonDto {}

class ContainmentTarget {
  @ApiProperty() id: string;
  @ApiProperty() display: string;
  @ApiProperty() requested: string;
}

class ContainmentRelease {
  @ApiProperty({ format: 'date-time' }) scheduledAt: string;
  @ApiProperty({ enum: ['scheduled', 'running', 'released', 'kept', 'failed'] }) status: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'The release action Cordon ran.' }) actionId?: string;
}

class ContainmentReleasedBy {
  @ApiProperty({ format: 'uuid' }) actionId: string;
  @ApiProperty({ format: 'date-time' }) at: string;
}

class ContainmentCheckView {
  @ApiProperty({ format: 'date-time' }) checkedAt: string;
  @ApiProperty({ enum: ['holds', 'drifted', 'unknown', 'failed'] }) state: string;
  @ApiProperty({ description: 'What the read at Microsoft found, in words.' }) found: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) detail?: Record<string, unknown>;
}

class Actor {
  @ApiProperty({ enum: ['apiKey', 'user', 'system'] }) type: string;
  @ApiProperty() id: string;
  @ApiProperty() name: string;
}

export class ContainmentResponse {
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty({ enum: CONTAINMENT_KINDS }) kind: string;
  @ApiProperty({ type: ContainmentTarget }) target: ContainmentTarget;
  @ApiProperty({ enum: CONTAINMENT_STATES }) state: string;
  @ApiProperty({ format: 'uuid', description: 'The action that contained it.' }) actionId: string;
  @ApiProperty({ example: 'user.disable' }) type: string;
  @ApiProperty({ type: Actor, description: 'Who asked for it.' }) requestedBy: Actor;
  @ApiProperty({ description: 'Why.' }) reason: string;
  @ApiProperty({ type: String, nullable: true }) ticket: string | null;
  @ApiProperty({ format: 'date-time', description: 'When the containing action succeeded.' }) since: string;
  @ApiPropertyOptional({ type: ContainmentRelease, description: 'Its automatic release, if it was time-boxed.' }) release?: ContainmentRelease;
  @ApiPropertyOptional({ type: ContainmentReleasedBy, description: 'The inverse action that released it (state released).' })
  releasedBy?: ContainmentReleasedBy;
  @ApiProperty({ type: ContainmentCheckView, nullable: true, description: 'The last read-back at Microsoft (null: not checked yet).' })
  check: ContainmentCheckView | null;
  @ApiProperty({ example: 'user.enable', description: 'The action type that releases it.' }) releasedWith: string;
  @ApiProperty({ description: 'Whether the verification reads this kind of containment back (see README).' }) checked: boolean;
}

export class ContainmentPage {
  @ApiProperty({ type: [ContainmentResponse] }) items: ContainmentResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class ContainmentsVerifyResponse {
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty({ description: 'Containments read back at Microsoft.' }) checked: number;
  @ApiProperty() holds: number;
  @ApiProperty() drifted: number;
  @ApiProperty({ description: 'The read could not tell.' }) unknown: number;
  @ApiProperty({ description: 'The read failed (the reason is on the row).' }) failed: number;
  @ApiProperty({ description: 'Active containments of a type without a read (containment group).' }) notCheckable: number;
}
