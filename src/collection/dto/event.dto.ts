import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIP, IsOptional, MaxLength } from 'class-validator';
import { DateTimeQuery, Text, UuidParam } from '../../common/dto-decorators';
import { PageQueryDto } from '../../common/paging';

export class EventQueryDto extends PageQueryDto {
  @UuidParam({ optional: true, description: "Only this tenant's events." })
  tenantId?: string;

  @Text(100, { optional: true, min: 0, example: 'management-activity', description: 'Only events of this source.' })
  source?: string;

  @Text(200, { optional: true, min: 0, example: 'Exchange', description: 'Workload (exact, as Microsoft names it).' })
  workload?: string;

  @Text(200, { optional: true, min: 0, example: 'New-InboxRule', description: 'Operation (exact).' })
  operation?: string;

  @Text(500, { optional: true, min: 0, example: 'alice@contoso.com', description: 'Acting user id or UPN (case-insensitive).' })
  user?: string;

  @ApiPropertyOptional({ maxLength: 100, example: '203.0.113.45', description: 'Client IP address (IPv4 or IPv6, no port).' })
  @IsOptional()
  @IsIP()
  @MaxLength(100)
  ip?: string;

  @DateTimeQuery({ as: 'text', description: 'Occurred at or after (inclusive).' })
  since?: string;

  @DateTimeQuery({ as: 'text', description: 'Occurred before (exclusive).' })
  until?: string;
}

export class EventResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty({ example: 'management-activity' }) source: string;
  @ApiProperty({ example: 'Audit.Exchange', description: 'The stream it was collected from (content type).' }) stream: string;
  @ApiProperty({ description: "Microsoft's record id (the dedupe key)." }) recordId: string;
  @ApiProperty({ format: 'date-time', description: 'When the activity happened (CreationTime, UTC).' }) occurredAt: string;
  @ApiProperty({ nullable: true, type: String }) workload: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'AuditLogRecordType; unknown types are kept.' }) recordType: number | null;
  @ApiProperty({ nullable: true, type: String }) operation: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Succeeded, Failed, PartiallySucceeded, or as Microsoft said it.' }) resultStatus: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Lower-case.' }) userId: string | null;
  @ApiProperty({ nullable: true, type: Number }) userType: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'The address alone (port and brackets removed); null when absent or unreadable.' }) clientIp:
    string | null;
  @ApiProperty({ nullable: true, type: String }) objectId: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The record exactly as Microsoft delivered it.' }) raw: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) collectedAt: string;
}

export class EventPage {
  @ApiProperty({ type: [EventResponse] }) items: EventResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
