import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray } from 'class-validator';
import { DateTime, Text, UuidParam } from '../../../common/dto-decorators';
import { PageQueryDto } from '../../../common/paging';
import { STREAM_NAME } from '../../../collection/dto/collection.dto';

export class TenantAuditSearchesParams {
  @UuidParam({ description: 'Cordon tenant id.' })
  id: string;
}

export class AuditSearchParams extends TenantAuditSearchesParams {
  @UuidParam({ description: 'The audit search id.' })
  searchId: string;
}

export class BackfillParams extends TenantAuditSearchesParams {
  @Text(100, {
    pattern: STREAM_NAME,
    message: 'source is not a collection stream name',
    example: 'Audit.Exchange',
    description: 'The collection stream whose gap is backfilled (a Management Activity content type).',
  })
  source: string;
}

export class CreateAuditSearchDto {
  @DateTime({
    as: 'text',
    example: '2025-01-01T00:00:00Z',
    description: "Records created at or after this instant. Up to 180 days back (beyond the Management Activity API's 7).",
  })
  since: string;

  @DateTime({ as: 'text', example: '2025-03-01T00:00:00Z', description: 'Records created before this instant; after `since`.' })
  until: string;

  @Text(100, {
    each: true,
    optional: true,
    pattern: /^[A-Za-z][A-Za-z0-9]*$/,
    message: 'each record type is a camelCase auditLogRecordType name',
    example: ['exchangeAdmin', 'azureActiveDirectoryStsLogon'],
    description: 'Purview record types (camelCase `auditLogRecordType` values); any when empty. At most 50.',
  })
  @IsArray()
  @ArrayMaxSize(50)
  recordTypes?: string[];

  @Text(401, {
    each: true,
    optional: true,
    pattern: /^[^\s@]{1,200}@[^\s@]{1,200}$/,
    message: 'each user is a user principal name (name@domain)',
    example: ['alice@contoso.com'],
    description: 'User principal names; any when empty. At most 50.',
  })
  @IsArray()
  @ArrayMaxSize(50)
  users?: string[];

  @Text(200, {
    each: true,
    optional: true,
    pattern: /^[\x20-\x7e]+$/,
    message: 'each operation is 1–200 printable characters',
    example: ['New-InboxRule', 'FileDownloaded'],
    description: 'Operations (as the workloads name them); any when empty. At most 50.',
  })
  @IsArray()
  @ArrayMaxSize(50)
  operations?: string[];

  @Text(100, {
    optional: true,
    pattern: /^[A-Za-z0-9]+$/,
    message: 'service is a workload name such as Exchange',
    example: 'Exchange',
    description: 'Only this workload (Purview `serviceFilter`).',
  })
  service?: string;
}

export class BackfillDto {
  @UuidParam({ description: 'The gap to backfill, as listed in GET /v1/tenants/{id}/collection (`gaps[].id`).' })
  gapId: string;
}

export class AuditSearchListQuery extends PageQueryDto {}

export class AuditSearchCounts {
  @ApiProperty({ description: 'Records read from Microsoft so far.' }) fetched: number;
  @ApiProperty({ description: 'Records stored for the first time.' }) new: number;
  @ApiProperty({ description: 'Records already stored by an earlier search.' }) duplicates: number;
}

export class AuditSearchBackfill {
  @ApiProperty({ format: 'uuid' }) gapId: string;
  @ApiProperty({ example: 'Audit.Exchange' }) stream: string;
  @ApiProperty({ description: "True once the search has stored every record of the gap's window." }) covered: boolean;
}

export class AuditSearchActor {
  @ApiProperty() type: string;
  @ApiProperty() id: string;
  @ApiProperty({ nullable: true, type: String }) name: string | null;
}

export class AuditSearchResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty({
    enum: ['queued', 'submitted', 'collecting', 'succeeded', 'failed'],
    description: '`submitted`: Microsoft is running the query; `collecting`: its records are being stored.',
  })
  status: string;
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'running',
    description: "The query's status at Microsoft, as last seen (notStarted, running, succeeded, failed, cancelled).",
  })
  microsoftStatus: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The Microsoft Graph auditLogQuery id.' }) queryId: string | null;
  @ApiProperty({ format: 'date-time' }) since: string;
  @ApiProperty({ format: 'date-time' }) until: string;
  @ApiProperty({ type: [String] }) recordTypes: string[];
  @ApiProperty({ type: [String] }) users: string[];
  @ApiProperty({ type: [String] }) operations: string[];
  @ApiProperty({ nullable: true, type: String }) service: string | null;
  @ApiProperty({ type: AuditSearchCounts }) counts: AuditSearchCounts;
  @ApiProperty({ description: 'Times Microsoft was asked whether the query had finished.' }) polls: number;
  @ApiProperty({ nullable: true, type: String, description: 'Why it failed, or the transient error it is retrying after.' }) error: string | null;
  @ApiProperty({ type: AuditSearchBackfill, nullable: true, description: 'Set when the search backfills a collection gap.' })
  backfill: AuditSearchBackfill | null;
  @ApiProperty({ type: AuditSearchActor }) requestedBy: AuditSearchActor;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) completedAt: string | null;
}

export class AuditSearchPage {
  @ApiProperty({ type: [AuditSearchResponse] }) items: AuditSearchResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
