import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIP, IsISO8601, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/paging';

export class EventQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Only this tenant\'s events.' })
  @IsOptional()
  @IsUUID()
  tenantId?: string;

  @ApiPropertyOptional({ example: 'management-activity', description: 'Only events of this source.' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  source?: string;

  @ApiPropertyOptional({ example: 'Exchange', description: 'Workload (exact, as Microsoft names it).' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  workload?: string;

  @ApiPropertyOptional({ example: 'New-InboxRule', description: 'Operation (exact).' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  operation?: string;

  @ApiPropertyOptional({ example: 'alice@contoso.com', description: 'Acting user id or UPN (case-insensitive).' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  user?: string;

  @ApiPropertyOptional({ example: '203.0.113.45', description: 'Client IP address (IPv4 or IPv6, no port).' })
  @IsOptional()
  @IsIP()
  ip?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Occurred at or after (inclusive).' })
  @IsOptional()
  @IsISO8601({ strict: true })
  since?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Occurred before (exclusive).' })
  @IsOptional()
  @IsISO8601({ strict: true })
  until?: string;
}

export class EventResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty({ example: 'management-activity' }) source: string;
  @ApiProperty({ example: 'Audit.Exchange', description: 'The stream it was collected from (content type).' }) stream: string;
  @ApiProperty({ description: 'Microsoft\'s record id (the dedupe key).' }) recordId: string;
  @ApiProperty({ format: 'date-time', description: 'When the activity happened (CreationTime, UTC).' }) occurredAt: string;
  @ApiProperty({ nullable: true, type: String }) workload: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'AuditLogRecordType; unknown types are kept.' }) recordType: number | null;
  @ApiProperty({ nullable: true, type: String }) operation: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Succeeded, Failed, PartiallySucceeded, or as Microsoft said it.' }) resultStatus: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Lower-case.' }) userId: string | null;
  @ApiProperty({ nullable: true, type: Number }) userType: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'The address alone (port and brackets removed); null when absent or unreadable.' }) clientIp: string | null;
  @ApiProperty({ nullable: true, type: String }) objectId: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The record exactly as Microsoft delivered it.' }) raw: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) collectedAt: string;
}

export class EventPage {
  @ApiProperty({ type: [EventResponse] }) items: EventResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
