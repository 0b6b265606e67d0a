import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class AuditLinkDto {
  @ApiProperty({ description: 'The audit entry that carries this evidence (GET /v1/audit-log, verify).' }) seq: number;
  @ApiProperty({ description: "The entry's chain hash (hex)." }) hash: string;
}

export class SnapshotItemDto {
  @ApiProperty({ example: 'user' }) name: string;
  @ApiProperty({
    enum: ['present', 'absent', 'failed'],
    description: '`absent`: the tenant cannot show it (licence, permission); `failed`: the read went wrong (the action went on).',
  })
  status: string;
  @ApiPropertyOptional({ description: 'Why it is absent or failed.' }) note?: string;
  @ApiPropertyOptional({ description: 'What was read (any JSON).' }) content?: unknown;
  @ApiProperty({ description: "SHA-256 (hex) of the item's canonical JSON ({name, status, note?, content?} with sorted keys)." }) sha256: string;
  @ApiProperty({ description: 'The SHA-256 the audit entry recorded when the snapshot was taken.' }) recordedSha256: string;
}

export class SnapshotDto {
  @ApiProperty({ format: 'date-time' }) takenAt: string;
  @ApiProperty({ type: AuditLinkDto }) audit: AuditLinkDto;
  @ApiProperty({ type: [SnapshotItemDto] }) items: SnapshotItemDto[];
}

export class StepEvidenceDto {
  @ApiProperty({ example: 'disable-sign-in' }) step: string;
  @ApiProperty() position: number;
  @ApiProperty({ enum: ['succeeded', 'skipped', 'failed'] }) status: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'What the step recorded (its detail).' }) evidence: Record<string, unknown>;
  @ApiProperty({ description: 'SHA-256 (hex) of the canonical JSON of `evidence`.' }) sha256: string;
  @ApiProperty({ type: String, nullable: true, description: 'The SHA-256 the audit entry recorded (null for entries older than evidence hashing).' })
  recordedSha256: string | null;
  @ApiProperty({ type: AuditLinkDto }) audit: AuditLinkDto;
}

export class ActionEvidenceResponse {
  @ApiProperty({ format: 'uuid' }) actionId: string;
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty({ example: 'user.isolate' }) type: string;
  @ApiProperty({ example: 'alice@contoso.com' }) target: string;
  @ApiProperty({
    type: SnapshotDto,
    nullable: true,
    description: 'What the target looked like before the first step; null for a dry run, an action that never ran, or a target kind without snapshot reads.',
  })
  snapshot: SnapshotDto | null;
  @ApiProperty({ type: [StepEvidenceDto], description: 'Every finished step, in the order they finished.' }) steps: StepEvidenceDto[];
}
