import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsIn, IsOptional } from 'class-validator';
import { ActionRequestDto } from '../../../actions/dto/action.dto';
import { Text, UuidParam } from '../../../common/dto-decorators';

/**
 * The values Cordon sends to Microsoft, as Graph documents its writable enums (microsoft-notes §8.7, M42).
 * Values Microsoft sends back are never checked against these lists (open enums, microsoft-notes M10). The
 * `unknownFutureValue` sentinel is no value to set, so it is not accepted.
 */
export const ALERT_STATUSES = ['unknown', 'new', 'inProgress', 'resolved'] as const;
export const INCIDENT_STATUSES = ['active', 'resolved', 'inProgress', 'redirected', 'awaitingAction'] as const;
export const CLASSIFICATIONS = ['unknown', 'falsePositive', 'truePositive', 'informationalExpectedActivity'] as const;
/** One Graph enum (`alertDetermination`) serves alerts and incidents alike (microsoft-notes §8.7). */
export const DETERMINATIONS = [
  'unknown',
  'apt',
  'malware',
  'securityPersonnel',
  'securityTesting',
  'unwantedSoftware',
  'other',
  'multiStagedAttack',
  'compromisedAccount',
  'phishing',
  'maliciousUserActivity',
  'notMalicious',
  'notEnoughDataToValidate',
  'confirmedUserActivity',
  'lineOfBusinessApplication',
] as const;

/** The fields an update may change; at least one is required. */
export const ALERT_CHANGE_FIELDS = ['status', 'classification', 'determination', 'assignedTo'] as const;
export const INCIDENT_CHANGE_FIELDS = [...ALERT_CHANGE_FIELDS, 'customTags'] as const;

const ID_PATTERN = /^[^/\\?#\s']+$/;

export class TenantAlertParams {
  @UuidParam({ description: 'Cordon tenant id.' })
  id: string;

  @Text(200, {
    pattern: ID_PATTERN,
    message: 'alertId must be a Microsoft alert id',
    description: "Microsoft's alert id (alerts_v2).",
    example: 'da637551227677560813_-961444813',
  })
  alertId: string;
}

export class TenantIncidentParams {
  @UuidParam({ description: 'Cordon tenant id.' })
  id: string;

  @Text(20, { pattern: /^[0-9]+$/, message: 'incidentId must be a Microsoft incident id (a number)', description: "Microsoft's incident id.", example: '4711' })
  incidentId: string;
}

const isIn = (field: string, values: readonly string[]) => IsIn(values, { message: `${field} must be one of ${values.join(', ')}` });

class UpdateFields extends ActionRequestDto {
  @ApiPropertyOptional({ enum: CLASSIFICATIONS })
  @IsOptional()
  @isIn('classification', CLASSIFICATIONS)
  classification?: string;

  @ApiPropertyOptional({ enum: DETERMINATIONS })
  @IsOptional()
  @isIn('determination', DETERMINATIONS)
  determination?: string;

  @Text(320, { optional: true, description: 'Who owns it at Microsoft (a UPN or a name).', example: 'soc-tier2@contoso.com' })
  assignedTo?: string;
}

export class UpdateAlertDto extends UpdateFields {
  @ApiPropertyOptional({ enum: ALERT_STATUSES })
  @IsOptional()
  @isIn('status', ALERT_STATUSES)
  status?: string;
}

export class UpdateIncidentDto extends UpdateFields {
  @ApiPropertyOptional({ enum: INCIDENT_STATUSES })
  @IsOptional()
  @isIn('status', INCIDENT_STATUSES)
  status?: string;

  @Text(100, {
    each: true,
    optional: true,
    description: "The incident's custom tags after the change (the whole list; order does not matter).",
    example: ['cordon', 'bec'],
  })
  @IsArray()
  @ArrayMaxSize(50)
  @ArrayUnique()
  customTags?: string[];
}

export class CommentDto extends ActionRequestDto {
  @Text(1000, {
    description: 'The comment; Cordon appends ` [cordon:<action id>]` so that a retry finds it instead of posting it twice.',
    example: 'Contained by Cordon: user disabled, sessions revoked.',
  })
  comment: string;
}
