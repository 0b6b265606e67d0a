import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsObject, IsOptional, IsString } from 'class-validator';
import { ActionRequestDto } from '../../../actions/dto/action.dto';
import { DateTime, Text, UuidParam } from '../../../common/dto-decorators';
import { PageQueryDto } from '../../../common/paging';
import { DEFAULT_EXPIRY_DAYS, INDICATOR_ACTIONS, INDICATOR_SEVERITIES, INDICATOR_TYPES, MAX_EXPIRY_DAYS } from '../indicator-values';

export const MAX_IMPORT_ITEMS = 500;

const VALUE_DESCRIPTION =
  'FileSha1 / CertificateThumbprint: 40 hex; FileSha256: 64 hex; FileMd5: 32 hex; IpAddress: one public IPv4 or IPv6 address (no CIDR); ' +
  'DomainName: a domain (IDN allowed, sent in punycode); Url: an http or https URL.';

/** The fields of one indicator, shared by the single submission and every import item. */
export class IndicatorFieldsDto {
  @ApiProperty({ enum: INDICATOR_TYPES, example: 'FileSha256' })
  @IsString()
  type: string;

  @Text(2048, { description: VALUE_DESCRIPTION, example: '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f' })
  value: string;

  @ApiProperty({
    enum: INDICATOR_ACTIONS,
    description: '`Alert` and `AlertAndBlock` are retired by Microsoft: use `Audit` or `Block` with `generateAlert: true`.',
  })
  @IsString()
  action: string;

  @ApiPropertyOptional({ enum: INDICATOR_SEVERITIES, default: 'Informational' })
  @IsOptional()
  @IsIn(INDICATOR_SEVERITIES)
  severity?: string;

  @Text(300, { description: 'Shown in Defender (and in its alerts).', example: 'IR-4711 dropper' })
  title: string;

  @Text(4000, { optional: true, description: 'Defender requires one; Cordon sends the reason when none is given.' })
  description?: string;

  @DateTime({
    as: 'text',
    optional: true,
    description: `When the indicator expires: in the future, at most ${MAX_EXPIRY_DAYS} days ahead. Default: ${DEFAULT_EXPIRY_DAYS} days from the submission.`,
  })
  expiresAt?: string;

  @ApiPropertyOptional({ description: 'Raise an alert when the indicator matches (required true for `Audit`).' })
  @IsOptional()
  @IsBoolean()
  generateAlert?: boolean;
}

/** `POST /v1/tenants/{id}/indicators`: the indicator and the action request's reason, ticket and dry run. */
export class SubmitIndicatorDto extends IntersectionType(ActionRequestDto, IndicatorFieldsDto) {}

export class ImportIndicatorsDto extends ActionRequestDto {
  @ApiProperty({ type: [IndicatorFieldsDto], minItems: 1, maxItems: MAX_IMPORT_ITEMS, description: 'Each item is checked like a single submission.' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_IMPORT_ITEMS)
  @IsObject({ each: true })
  indicators: Array<Record<string, unknown>>;
}

export class TenantIndicatorParams {
  @UuidParam({ description: 'Cordon tenant id.' })
  id: string;

  @Text(20, { pattern: /^\d+$/, message: 'indicatorId must be a Defender indicator id (digits)', example: '994' })
  indicatorId: string;
}

export class IndicatorQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: INDICATOR_TYPES })
  @IsOptional()
  @IsIn(INDICATOR_TYPES)
  type?: string;

  @ApiPropertyOptional({ description: 'An action as Defender holds it (retired ones included).', example: 'Block' })
  @IsOptional()
  @IsIn([...INDICATOR_ACTIONS, 'Alert', 'AlertAndBlock'])
  action?: string;

  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'Only expired (true) or only unexpired (false) indicators.' })
  @IsOptional()
  @IsIn(['true', 'false'])
  expired?: 'true' | 'false';
}

export class IndicatorResponse {
  @ApiProperty({ description: "Defender's indicator id.", example: '994' }) id: string;
  @ApiProperty({ example: 'FileSha256' }) type: string;
  @ApiProperty() value: string;
  @ApiProperty({ example: 'Block' }) action: string;
  @ApiProperty({ type: String, nullable: true }) severity: string | null;
  @ApiProperty({ type: String, nullable: true }) title: string | null;
  @ApiProperty({ type: String, nullable: true }) description: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expiresAt: string | null;
  @ApiProperty() expired: boolean;
  @ApiProperty() generateAlert: boolean;
  @ApiProperty({ type: String, nullable: true }) createdBy: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) createdAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) updatedAt: string | null;
}

export class IndicatorPage {
  @ApiProperty({ type: [IndicatorResponse] }) items: IndicatorResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
