import { ApiProperty } from '@nestjs/swagger';

import { DateTimeQuery, Text, UuidParam } from '../../../common/dto-decorators';
import { PageQueryDto } from '../../../common/paging';

/** Enum filters are open (any member Microsoft may add), compared case-insensitively. */
const ENUM_MEMBER = /^[A-Za-z][A-Za-z0-9]*$/;

class SecurityQueryDto extends PageQueryDto {
  @UuidParam({ optional: true, description: "Only this tenant's objects." })
  tenantId?: string;

  @Text(100, {
    optional: true,
    pattern: ENUM_MEMBER,
    message: 'severity must be an enum member name',
    example: 'high',
    description: 'Severity (informational, low, medium, high, or any newer member).',
  })
  severity?: string;

  @Text(100, {
    optional: true,
    pattern: ENUM_MEMBER,
    message: 'status must be an enum member name',
    example: 'new',
    description: 'Status as Microsoft names it.',
  })
  status?: string;

  @DateTimeQuery({ as: 'text', description: 'Created at or after (inclusive).' })
  since?: string;

  @DateTimeQuery({ as: 'text', description: 'Created before (exclusive).' })
  until?: string;
}

export class AlertQueryDto extends SecurityQueryDto {
  @Text(100, {
    optional: true,
    pattern: ENUM_MEMBER,
    message: 'serviceSource must be an enum member name',
    example: 'microsoftDefenderForEndpoint',
    description: 'The product that raised it (open enum: values newer than Cordon are served too).',
  })
  serviceSource?: string;

  @Text(200, { optional: true, min: 0, example: '4711', description: "Only the alerts of this incident (Microsoft's incident id)." })
  incidentId?: string;

  @Text(500, {
    optional: true,
    example: 'alice@contoso.com',
    description: "Only the alerts whose evidence names this user: UPN (case-insensitive) or Entra object id (the evidence's `userAccount`).",
  })
  user?: string;

  @Text(500, {
    optional: true,
    example: 'ws-042.contoso.com',
    description:
      "Only the alerts whose evidence names this device: DNS name (case-insensitive) or Defender machine id (the evidence's `deviceDnsName`, `mdeDeviceId`).",
  })
  device?: string;
}

export class IncidentQueryDto extends SecurityQueryDto {}

export class AlertResponse {
  @ApiProperty({ format: 'uuid', description: "Cordon's tenant id." }) tenantId: string;
  @ApiProperty({ description: "Microsoft's alert id." }) id: string;
  @ApiProperty({ nullable: true, type: String }) incidentId: string | null;
  @ApiProperty({ nullable: true, type: String }) providerAlertId: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'microsoftDefenderForOffice365',
    description: 'Open enum: kept as Microsoft sent it (first letter lower-cased).',
  })
  serviceSource: string | null;
  @ApiProperty({ nullable: true, type: String }) detectionSource: string | null;
  @ApiProperty({ nullable: true, type: String }) severity: string | null;
  @ApiProperty({ nullable: true, type: String }) status: string | null;
  @ApiProperty({ nullable: true, type: String }) classification: string | null;
  @ApiProperty({ nullable: true, type: String }) determination: string | null;
  @ApiProperty({ nullable: true, type: String }) title: string | null;
  @ApiProperty({ nullable: true, type: String }) category: string | null;
  @ApiProperty({ format: 'date-time' }) createdDateTime: string;
  @ApiProperty({ format: 'date-time', description: "Microsoft's last change; the stored version is the newest Cordon has seen." }) lastUpdateDateTime: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) resolvedDateTime: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The alert exactly as Microsoft delivered it (latest version).' }) raw: Record<
    string,
    unknown
  >;
  @ApiProperty({ format: 'date-time' }) firstCollectedAt: string;
  @ApiProperty({ format: 'date-time', description: 'When Cordon last stored a new version.' }) collectedAt: string;
}

export class AlertPage {
  @ApiProperty({ type: [AlertResponse] }) items: AlertResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class IncidentResponse {
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty({ description: "Microsoft's incident id (a numeric string)." }) id: string;
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
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The incident as Microsoft delivered it (without expanded alerts).' }) raw: Record<
    string,
    unknown
  >;
  @ApiProperty({ format: 'date-time' }) firstCollectedAt: string;
  @ApiProperty({ format: 'date-time' }) collectedAt: string;
}

export class IncidentPage {
  @ApiProperty({ type: [IncidentResponse] }) items: IncidentResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
