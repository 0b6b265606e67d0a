import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsOptional, IsUUID, MinDate } from 'class-validator';
import { DateTime, Text, UuidParam } from '../../common/dto-decorators';
import { ROLES, type Role } from '../../access/roles';

export class CreateApiKeyDto {
  @Text(200, { example: 'xsoar-prod' })
  name: string;

  @ApiProperty({ enum: ROLES, isArray: true, example: ['responder'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(ROLES, { each: true, message: `each value in roles must be one of ${ROLES.join(', ')}` })
  roles: Role[];

  @ApiPropertyOptional({ type: [String], format: 'uuid', description: 'Limit the key to these Cordon tenant ids; omit for every tenant.' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @ArrayUnique()
  @IsUUID('all', { each: true })
  tenantIds?: string[];

  @DateTime({ optional: true, description: 'When the key stops working (RFC 3339).' })
  @MinDate(() => new Date(), { message: 'expiresAt must be in the future' })
  expiresAt?: Date;
}

export class ApiKeyResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'The first characters of the key, to recognise it.', example: 'cdn_Ab3xYz' }) prefix: string;
  @ApiProperty({ enum: ROLES, isArray: true }) roles: Role[];
  @ApiProperty({ type: [String], nullable: true, description: 'null: every tenant.' }) tenantIds: string[] | null;
  @ApiProperty() createdBy: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) expiresAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) revokedAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastUsedAt: string | null;
}

export class CreatedApiKeyResponse extends ApiKeyResponse {
  @ApiProperty({ description: 'The key. Shown once, here; store it now.', example: 'cdn_...' })
  key: string;
}

export class ApiKeyPage {
  @ApiProperty({ type: [ApiKeyResponse] }) items: ApiKeyResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

/** Who the caller is, as Cordon sees it: what a client (the console) needs to decide what to show. */
export class WhoAmIResponse {
  @ApiProperty({ enum: ['apiKey', 'user'] }) type: 'apiKey' | 'user' | 'system';
  @ApiProperty({ description: 'The API key id, or the Entra ID user object id.' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ROLES, isArray: true }) roles: Role[];
  @ApiProperty({ type: [String], nullable: true, description: 'null: every tenant.' }) tenantIds: string[] | null;
}

export class ApiKeyIdParam {
  @UuidParam()
  id: string;
}
