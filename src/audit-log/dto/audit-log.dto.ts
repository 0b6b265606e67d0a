import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Min } from 'class-validator';
import { DateTimeQuery, Text, UuidParam } from '../../common/dto-decorators';
import { PageQueryDto } from '../../common/paging';
import type { AuditEntry } from '../audit-entry';

export class AuditLogQueryDto extends PageQueryDto {
  @DateTimeQuery({ description: 'Entries at or after this time.' })
  since?: Date;

  @DateTimeQuery({ description: 'Entries before this time.' })
  until?: Date;

  @Text(200, { optional: true, description: 'Actor id (API key id, Entra object id, or a system component).' })
  actor?: string;

  @UuidParam({ optional: true })
  tenantId?: string;

  @Text(100, { optional: true, example: 'api-key.created' })
  event?: string;

  @UuidParam({ optional: true })
  actionId?: string;
}

export class VerifyQueryDto {
  @ApiPropertyOptional({ minimum: 1, description: 'First seq to check (default 1).' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  from?: number;

  @ApiPropertyOptional({ minimum: 1, description: 'Last seq to check (default: the newest entry).' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  to?: number;
}

export class ExportQueryDto {
  @ApiPropertyOptional({ enum: ['ndjson', 'csv'], default: 'ndjson' })
  @IsOptional()
  @IsIn(['ndjson', 'csv'])
  format: 'ndjson' | 'csv' = 'ndjson';

  @DateTimeQuery()
  since?: Date;

  @DateTimeQuery()
  until?: Date;
}

class AuditActorDto {
  @ApiProperty({ enum: ['apiKey', 'user', 'system'] }) type: string;
  @ApiProperty() id: string;
  @ApiProperty() name: string;
}

export class AuditEntryResponse {
  @ApiProperty({ description: 'Gap-free, strictly increasing.' }) seq: number;
  @ApiProperty({ format: 'date-time', description: 'Database time of the write.' }) at: string;
  @ApiProperty({ type: AuditActorDto }) actor: AuditActorDto;
  @ApiProperty({ example: 'api-key.created' }) event: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) tenantId: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) actionId: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Whom or what the entry is about.' }) subject: string | null;
  @ApiProperty() requestId: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) data: Record<string, unknown>;
  @ApiProperty({ description: 'SHA-256(prevHash ‖ canonical JSON of the entry), hex.' }) hash: string;
  @ApiProperty({ description: "The previous entry's hash (32 zero bytes for seq 1), hex." }) prevHash: string;
}

export class AuditLogPage {
  @ApiProperty({ type: [AuditEntryResponse] }) items: AuditEntryResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class VerifyResponse {
  @ApiProperty() ok: boolean;
  @ApiProperty({ description: 'Entries checked.' }) checked: number;
  @ApiPropertyOptional({ description: 'The first entry that fails, when ok is false.' }) firstBadSeq?: number;
  @ApiPropertyOptional() reason?: string;
  @ApiProperty({ description: 'The chain head now; keep it outside the database to detect a later rewrite.' }) lastSeq: number;
  @ApiProperty() lastHash: string;
}

export function toAuditEntryResponse(entry: AuditEntry): AuditEntryResponse {
  return {
    seq: entry.seq,
    at: entry.at,
    actor: entry.actor,
    event: entry.event,
    tenantId: entry.tenantId,
    actionId: entry.actionId,
    subject: entry.subject,
    requestId: entry.requestId,
    data: entry.data,
    hash: entry.hash,
    prevHash: entry.prevHash,
  };
}
