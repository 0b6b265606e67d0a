import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../../common/paging';

/** Enum filters are open (any member Microsoft may add), compared case-insensitively. */
const ENUM_MEMBER = /^[A-Za-z][A-Za-z0-9]{0,99}$/;

class SecurityQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Only this tenant\'s objects.' })
  @IsOptional()
  @IsUUID()
  tenantId?: string;

  @ApiPropertyOptional({ example: 'high', description: 'Severity (informational, low, medium, high, or any newer member).' })
  @IsOptional()
  @Matches(ENUM_MEMBER, { message: 'severity must be an enum member name' })
  severity?: string;

  @ApiPropertyOptional({ example: 'new', description: 'Status as Microsoft names it.' })
  @IsOptional()
  @Matches(ENUM_MEMBER, { message: 'status must be an enum member name' })
  status?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Created at or after (inclusive).' })
  @IsOptional()
  @IsISO8601({ strict: true })
  since?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Created before (exclusive).' })
  @IsOptional()
  @IsISO8601({ strict: true })
  until?: string;
}

export class AlertQueryDto extends SecurityQueryDto {
  @ApiPropertyOptional({ example: 'microsoftDefenderForEndpoint', description: 'The product that raised it (open enum: values newer than Cordon are served too).' })
  @IsOptional()
  @Matches(ENUM_MEMBER, { message: 'serviceSource must be an enum member name' })
  serviceSource?: string;

  @ApiPropertyOptional({ example: '4711', description: 'Only the alerts of this incident (Microsoft\'s incident id).' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  incidentId?: string;
}

export class IncidentQueryDto extends SecurityQueryDto {}

export class AlertResponse {
  @ApiProperty({ format: 'uuid', description: 'Cordon\'s tenant id.' }) tenantId: string;
  @ApiProperty({ description: 'Microsoft\'s alert id.' }) id: string;
  @ApiProperty({ nullable: true, type: String }) incidentId: string | null;
  @ApiProperty({ nullable: true, type: String }) providerAlertId: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'microsoftDefenderForOffice365', description: 'Open enum: kept as Microsoft sent it (first letter lower-cased).' }) serviceSource: string | null;
  @ApiProperty({ nullable: true, type: String }) detectionSource: string | null;
  @ApiProperty({ nullable: true, type: String }) severity: string | null;
  @ApiProperty({ nullable: true, type: String }) status: string | null;
  @ApiProperty({ nullable: true, type: String }) classification: string | null;
  @ApiProperty({ nullable: true, type: String }) determination: string | null;
  @ApiProperty({ nullable: true, type: String }) title: string | null;
  @ApiProperty({ nullable: true, type: String }) category: string | null;
  @ApiProperty({ format: 'date-time' }) createdDateTime: string;
  @ApiProperty({ format: 'date-time', description: 'Microsoft\'s last change; the stored version is the newest Cordon has seen.' }) lastUpdateDateTime: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) resolvedDateTime: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The alert exactly as Microsoft delivered it (latest version).' }) raw: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) firstCollectedAt: string;
  @ApiProperty({ format: 'date-time', description: 'When Cordon last stored a new version.' }) collectedAt: string;
}

export class AlertPage {
  @ApiProperty({ type: [AlertResponse] }) items: AlertResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class IncidentResponse {
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty({ description: 'Microsoft\'s incident id (a numeric string).' }) id: string;
  @ApiProperty({ nullable: true, type: String }) displayName: string | null;
  @ApiProperty({ nullable: true, type: String }) severity: string | null;
  @ApiProperty({ nullable: true, type: String }) status: string | null;
  @ApiProperty({ nullable: true, type: String }) classification: string | null;
  @ApiProperty({ nullable: true, type: String }) determination: string | null;
  @ApiProperty({ nullable: true, type: String }) assignedTo: string | null;
  @ApiProperty({ nullable: true, type: String }) redirectIncidentId: string | null;
  @ApiProperty({ format: 'date-time' }) createdDateTime: string;
  @ApiProperty({ format: 'date-time' }) lastUpdateDateTime: string;
  @ApiProperty({ description: 'Collected alerts that belong to it; list them with GET /v1/alerts?incidentId=.' }) alertCount: number;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The incident as Microsoft delivered it (without expanded alerts).' }) raw: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) firstCollectedAt: string;
  @ApiProperty({ format: 'date-time' }) collectedAt: string;
}

export class IncidentPage {
  @ApiProperty({ type: [IncidentResponse] }) items: IncidentResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
