import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Text } from '../../common/dto-decorators';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsUUID,
  Validate,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';

/** Action types a policy can name (README "Response actions"). */
export const ACTION_TYPES = [
  'user.isolate',
  'user.release',
  'user.revoke-sessions',
  'user.disable',
  'user.enable',
  'user.confirm-compromised',
  'device.isolate',
  'device.release',
  'device.antivirus-scan',
  'device.restrict-app-execution',
  'device.unrestrict-app-execution',
  'device.collect-investigation-package',
  'device.stop-and-quarantine-file',
  'device.tag',
  'device.collect-file',
  'device.run-script',
  'user.remove-inbox-rules',
  'user.enable-inbox-rules',
  'user.revoke-app-consents',
  'user.remove-auth-methods',
  'user.reset-password',
  'user.add-to-containment-group',
  'user.remove-from-containment-group',
  'user.contain-bec',
  'app.disable',
  'app.enable',
  'alert.update',
  'alert.comment',
  'incident.update',
  'incident.comment',
  'email.remediate',
  'indicator.submit',
  'indicator.import',
  'indicator.remove',
] as const;

@ValidatorConstraint({ name: 'hourlyLimits' })
class HourlyLimitsConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    return Object.entries(value).every(
      ([type, limit]) => (ACTION_TYPES as readonly string[]).includes(type) && Number.isInteger(limit) && (limit as number) >= 0 && (limit as number) <= 100000,
    );
  }
  defaultMessage(): string {
    return `hourlyLimits maps action types (${ACTION_TYPES.join(', ')}) to whole numbers from 0 to 100000`;
  }
}

export class PolicyDto {
  @Text(320, { each: true, description: 'Users never acted on: object ids or user principal names.', example: ['breakglass@contoso.com'] })
  @IsArray()
  @ArrayMaxSize(10000)
  @ArrayUnique()
  protectedUsers: string[];

  @Text(320, { each: true, description: 'Groups (object ids) whose members are never acted on.' })
  @IsArray()
  @ArrayMaxSize(1000)
  @ArrayUnique()
  protectedGroups: string[];

  @Text(320, {
    each: true,
    optional: true,
    description:
      'Devices never acted on: Defender machine ids, Entra device ids or computer DNS names (a short name protects every DNS name with that first label).',
    example: ['dc-01.contoso.com'],
  })
  @IsArray()
  @ArrayMaxSize(10000)
  @ArrayUnique()
  protectedDevices?: string[];

  @Text(200, {
    each: true,
    optional: true,
    description: 'Defender machine tags whose devices are never acted on (e.g. domain controllers).',
    example: ['DomainController'],
  })
  @IsArray()
  @ArrayMaxSize(1000)
  @ArrayUnique()
  protectedDeviceTags?: string[];

  @ApiProperty({ enum: ACTION_TYPES, isArray: true, description: "Action types that wait for a second responder's approval." })
  @IsArray()
  @ArrayUnique()
  @IsIn(ACTION_TYPES, { each: true, message: `each value in approvalRequired must be one of ${ACTION_TYPES.join(', ')}` })
  approvalRequired: string[];

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer', minimum: 0 },
    description: 'Most actions of a type per hour per tenant.',
    example: { 'user.disable': 20 },
  })
  @IsObject()
  @Validate(HourlyLimitsConstraint)
  hourlyLimits: Record<string, number>;

  @ApiPropertyOptional({
    type: String,
    format: 'uuid',
    nullable: true,
    description:
      'The group (object id) `user.add-to-containment-group` and `user.contain-bec` add users to — for example the group a Conditional Access policy blocks. Null or absent: none.',
  })
  @IsOptional()
  @IsUUID('all')
  containmentGroupId?: string | null;

  @Text(260, {
    each: true,
    optional: true,
    // eslint-disable-next-line no-control-regex
    pattern: /^[^\\/:*?"<>|\u0000-\u001f]+$/,
    message: 'each value in liveResponseScripts must be a live-response library file name (no path, no control characters)',
    description: 'Live-response library scripts `device.run-script` may run (compared case-insensitively). Empty or absent: run-script is refused.',
    example: ['collect-triage.ps1'],
  })
  @IsArray()
  @ArrayMaxSize(500)
  @ArrayUnique()
  liveResponseScripts?: string[];

  @ApiPropertyOptional({
    enum: ['always', 'policy'],
    default: 'always',
    description:
      "`always`: every `device.run-script` waits for a second responder's approval, even when a responder asks. `policy`: only when approvalRequired names it (or the requester is no responder).",
  })
  @IsOptional()
  @IsIn(['always', 'policy'], { message: 'runScriptApproval must be one of always, policy' })
  runScriptApproval?: 'always' | 'policy';
}

export class PolicyResponse extends PolicyDto {
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty({ type: String, nullable: true }) updatedBy: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) updatedAt: string | null;
}

export class CapabilityResponse {
  @ApiProperty({ example: 'sign-in-logs' }) capability: string;
  @ApiProperty({ enum: ['available', 'unlicensed', 'forbidden', 'unreachable'] }) status: string;
  @ApiProperty({ type: String, nullable: true }) detail: string | null;
  @ApiProperty({ format: 'date-time' }) checkedAt: string;
}

export class CapabilitiesResponse {
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty({ enum: ['pending', 'connected', 'credential-error', 'unreachable'] }) connection: string;
  @ApiProperty({ type: String, nullable: true }) connectionDetail: string | null;
  @ApiProperty({ type: [CapabilityResponse], description: 'Empty until the first probe has run.' }) capabilities: CapabilityResponse[];
}
