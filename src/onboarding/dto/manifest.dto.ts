import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { Text } from '../../common/dto-decorators';

export class ManifestQueryDto {
  @ApiPropertyOptional({ description: 'Comma-separated module names (all when left out).', example: 'user-actions,persistence-removal' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : value,
  )
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(50, { each: true })
  modules?: string[];

  @ApiPropertyOptional({ enum: ['json', 'required-resource-access', 'azure-cli'], default: 'json' })
  @IsOptional()
  @IsIn(['json', 'required-resource-access', 'azure-cli'])
  format?: 'json' | 'required-resource-access' | 'azure-cli';
}

class ManifestPermissionDto {
  @ApiProperty({ enum: ['graph', 'manage', 'defender'] }) resource: string;
  @ApiProperty({ description: 'The resource app (Microsoft Graph, Office 365 Management APIs, WindowsDefenderATP).' }) resourceAppId: string;
  @ApiProperty({ example: 'User.RevokeSessions.All' }) name: string;
  @ApiProperty({ description: "The app role's id, for requiredResourceAccess." }) id: string;
  @ApiProperty({ description: 'False: the id could not be confirmed from published app-role tables; check it in the tenant before relying on it.' })
  idVerified: boolean;
  @ApiProperty() changesTenant: boolean;
  @ApiProperty({ description: 'Lets the app grant itself more: hold it in a second, approval-gated app registration.' }) selfElevating: boolean;
  @ApiProperty({ type: [String], description: 'The capabilities that need it.' }) for: string[];
}

class ManifestCapabilityDto {
  @ApiProperty() name: string;
  @ApiProperty({ type: String, nullable: true }) licence: string | null;
  @ApiProperty({ type: [String] }) permissions: string[];
  @ApiProperty({ enum: ['all', 'any'], description: 'Whether every permission is needed, or any one (the manifest asks for the first).' }) needs: string;
}

export class ManifestModuleDto {
  @ApiProperty({ example: 'persistence-removal' }) name: string;
  @ApiProperty() description: string;
  @ApiProperty() readOnly: boolean;
  @ApiProperty({ type: [ManifestCapabilityDto] }) capabilities: ManifestCapabilityDto[];
  @ApiProperty({ type: [ManifestPermissionDto] }) permissions: ManifestPermissionDto[];
}

export class ManifestResponse {
  @ApiProperty({ type: [ManifestModuleDto] }) modules: ManifestModuleDto[];
  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: "The app registration's requiredResourceAccess for these modules.",
  })
  requiredResourceAccess: Array<Record<string, unknown>>;
}

/** What Microsoft appends to the redirect URI after an admin consent (microsoft-notes §8.9). */
export class ConsentCallbackQuery {
  @Text(2000, { optional: true, description: 'The state Cordon put in the consent link.' }) state?: string;
  @Text(20, { optional: true, description: '`True`, also when `error` is set: the error is read first.' }) admin_consent?: string;
  @Text(100, { optional: true, description: "Microsoft's tenant value: recorded, not trusted." }) tenant?: string;
  @Text(200, { optional: true }) error?: string;
  @Text(2000, { optional: true }) error_description?: string;
  @Text(2000, { optional: true }) error_uri?: string;
  @Text(2000, { optional: true }) scope?: string;
}
