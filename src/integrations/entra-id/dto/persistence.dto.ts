import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { ActionRequestDto } from '../../../actions/dto/action.dto';
import { DateTime, Text, UuidParam } from '../../../common/dto-decorators';

/** A Graph object id as a path segment or list item: printable, no separators. */
const GRAPH_ID = /^[^/\\?#\s']+$/;

export class TenantAppParams {
  @UuidParam({ description: 'Cordon tenant id.' })
  id: string;

  @Text(100, {
    pattern: GRAPH_ID,
    message: 'app must be a service principal object id or an application (client) id',
    description: 'The enterprise app: its service principal object id or its appId.',
    example: '9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a',
  })
  app: string;
}

function IdList(description: string, example: string[]): PropertyDecorator {
  return (target, key) => {
    ApiPropertyOptional({ type: [String], description, example, maxItems: 100 })(target, key);
    IsOptional()(target, key);
    IsArray()(target, key);
    ArrayMinSize(1)(target, key);
    ArrayMaxSize(100)(target, key);
    ArrayUnique()(target, key);
    IsString({ each: true })(target, key);
    Length(1, 200, { each: true })(target, key);
    Matches(GRAPH_ID, { each: true, message: `each value in ${String(key)} must be a Graph id` })(target, key);
  };
}

export class RemoveInboxRulesDto extends ActionRequestDto {
  @IdList('The rules to remove, by Graph id (GET …/inbox-rules lists them). Give this or `risky: true`.', ['AQAAAJ5dZqA='])
  ruleIds?: string[];

  @ApiPropertyOptional({ description: 'Every rule Cordon flags (forwards, deletes or hides mail).' })
  @IsOptional()
  @IsBoolean()
  risky?: boolean;

  @ApiPropertyOptional({
    enum: ['disable', 'delete'],
    default: 'disable',
    description: 'disable keeps a way back (`enable-inbox-rules`); delete cannot be undone.',
  })
  @IsOptional()
  @IsIn(['disable', 'delete'])
  mode?: 'disable' | 'delete';
}

export class EnableInboxRulesDto extends ActionRequestDto {
  @IdList('The rules to enable again (those a `remove-inbox-rules` disabled: its evidence lists them).', ['AQAAAJ5dZqA='])
  ruleIds: string[];
}

export class RevokeAppConsentsDto extends ActionRequestDto {
  @IdList('The apps whose consents and app role assignments to remove: appId or service principal object id. Give this or `all: true`.', [
    '9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a',
  ])
  clientIds?: string[];

  @ApiPropertyOptional({ description: 'Every delegated consent and app role assignment of the user.' })
  @IsOptional()
  @IsBoolean()
  all?: boolean;
}

export class RemoveAuthMethodsDto extends ActionRequestDto {
  @IdList('The methods to remove, by id (GET …/auth-methods lists them). Give one of methodIds, addedAfter, allExceptPassword.', [
    '3179e48a-750b-4051-897c-87b9720928f7',
  ])
  methodIds?: string[];

  @DateTime({ optional: true, as: 'text', description: 'Every method registered at or after this time (undated types: by the directory audit).' })
  addedAfter?: string;

  @ApiPropertyOptional({ description: 'Every method except the password (the user registers again).' })
  @IsOptional()
  @IsBoolean()
  allExceptPassword?: boolean;
}

export class ResetPasswordDto extends ActionRequestDto {
  @ApiPropertyOptional({
    description:
      'The new password (8–256 characters, Entra’s complexity). Never stored, logged, audited or returned; left out, Cordon sets a random 24-character one. A given password is held in memory by the instance that took the request only: an approval must come within the hour.',
    writeOnly: true,
    format: 'password',
  })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  password?: string;
}

export class ContainBecDto extends ActionRequestDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 90, default: 30, description: 'Consents and sign-in methods added within this many days are removed.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(90)
  lookbackDays?: number;

  @ApiPropertyOptional({ enum: ['disable', 'delete'], default: 'disable' }) @IsOptional() @IsIn(['disable', 'delete']) inboxRuleMode?: 'disable' | 'delete';
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() disableSignIn?: boolean;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() revokeSessions?: boolean;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() resetPassword?: boolean;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() removeInboxRules?: boolean;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() revokeAppConsents?: boolean;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() removeAuthMethods?: boolean;
  @ApiPropertyOptional({ default: true, description: 'Skipped (with the reason) when the tenant policy names no containmentGroupId.' })
  @IsOptional()
  @IsBoolean()
  addToContainmentGroup?: boolean;
}

// ---- read side -------------------------------------------------------------------------------------

class ForwardDto {
  @ApiProperty() address: string;
  @ApiProperty({ enum: ['forwardTo', 'forwardAsAttachmentTo', 'redirectTo'] }) via: string;
  @ApiProperty({ type: Boolean, nullable: true, description: "Outside the tenant's verified domains; null when they could not be read." }) external:
    boolean | null;
}

class RuleRiskDto {
  @ApiProperty({ type: [ForwardDto] }) forwards: ForwardDto[];
  @ApiProperty() deletes: boolean;
  @ApiProperty({ description: 'Moves mail to Deleted Items, Junk, Archive or RSS feeds, or marks it read.' }) hides: boolean;
  @ApiProperty() external: boolean;
  @ApiProperty({ description: 'Any flag: what `risky: true` removes.' }) risky: boolean;
}

export class InboxRuleDto {
  @ApiProperty() id: string;
  @ApiProperty({ type: String, nullable: true }) displayName: string | null;
  @ApiProperty({ type: Number, nullable: true }) sequence: number | null;
  @ApiProperty() isEnabled: boolean;
  @ApiProperty() isReadOnly: boolean;
  @ApiProperty({ type: 'object', additionalProperties: true }) conditions: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true }) actions: Record<string, unknown>;
  @ApiProperty({ type: RuleRiskDto }) risk: RuleRiskDto;
}

class UserRefDto {
  @ApiProperty() id: string;
  @ApiProperty() userPrincipalName: string;
}

export class InboxRulesResponse {
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty({ type: UserRefDto }) user: UserRefDto;
  @ApiProperty({ type: [InboxRuleDto] }) rules: InboxRuleDto[];
  @ApiProperty({ type: [String], nullable: true, description: 'The verified domains forwarding addresses were compared with.' }) verifiedDomains:
    string[] | null;
  @ApiProperty({ description: 'What Graph does not show (hidden and client-only rules, mailbox forwarding).' }) note: string;
}

export class AppConsentDto {
  @ApiProperty({ enum: ['delegated', 'appRole'] }) kind: string;
  @ApiProperty() id: string;
  @ApiProperty({ type: String, nullable: true }) appId: string | null;
  @ApiProperty() servicePrincipalId: string;
  @ApiProperty({ type: String, nullable: true }) appDisplayName: string | null;
  @ApiProperty({ type: String, nullable: true }) publisherName: string | null;
  @ApiProperty() verifiedPublisher: boolean;
  @ApiProperty({ type: [String] }) scopes: string[];
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Null for delegated consents: Graph gives no date.' }) grantedAt:
    string | null;
  @ApiProperty({ description: 'The resource the consent is for (service principal object id).' }) resourceId: string;
}

export class AppConsentsResponse {
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty({ type: UserRefDto }) user: UserRefDto;
  @ApiProperty({ type: [AppConsentDto] }) consents: AppConsentDto[];
  @ApiProperty() note: string;
}

export class AuthMethodDto {
  @ApiProperty() id: string;
  @ApiProperty({ example: 'phone' }) type: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Null where Graph gives none (phone, email, software OATH).' })
  createdDateTime: string | null;
  @ApiProperty({ description: 'False for the password method.' }) removable: boolean;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Names and devices; phone numbers and addresses masked; never a secret.' })
  detail: Record<string, unknown>;
}

export class AuthMethodsResponse {
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty({ type: UserRefDto }) user: UserRefDto;
  @ApiProperty({ type: [AuthMethodDto] }) methods: AuthMethodDto[];
  @ApiProperty() note: string;
}
