import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { Equals, IsBoolean, IsDefined, IsIn, IsObject, IsOptional, IsString, IsUUID, Length, Matches, ValidateIf, ValidateNested } from 'class-validator';
import { Text, UuidParam } from '../../common/dto-decorators';
import { CLOUD_NAMES, type CloudName } from '../../microsoft';

export class CredentialDto {
  @ApiProperty({ enum: ['secret', 'certificate'] })
  @IsIn(['secret', 'certificate'])
  type: 'secret' | 'certificate';

  @ApiPropertyOptional({ minLength: 1, maxLength: 1024, description: 'The client secret (type secret). Write-only: never returned.', writeOnly: true })
  @ValidateIf((o: CredentialDto) => o.type === 'secret')
  @IsString()
  @Length(1, 1024)
  secret?: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 20000, description: 'The certificate registered on the app, PEM (type certificate).' })
  @ValidateIf((o: CredentialDto) => o.type === 'certificate')
  @IsString()
  @Matches(/-----BEGIN CERTIFICATE-----/, { message: 'certificatePem must be a PEM certificate' })
  @Length(1, 20000)
  certificatePem?: string;

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: 20000,
    description: 'Its private key, PEM, unencrypted (type certificate). Write-only: never returned.',
    writeOnly: true,
  })
  @ValidateIf((o: CredentialDto) => o.type === 'certificate')
  @IsString()
  @Matches(/-----BEGIN (RSA |EC )?PRIVATE KEY-----/, { message: 'privateKeyPem must be an unencrypted PEM private key' })
  @Length(1, 20000)
  privateKeyPem?: string;

  @ValidateIf((o: CredentialDto) => o.type === 'certificate')
  @Equals(undefined, { message: 'secret is not used with a certificate credential' })
  private readonly _noSecretWithCertificate?: never;
}

export class CreateTenantDto {
  @Text(200, { example: 'Contoso Ltd' })
  displayName: string;

  @ApiProperty({ format: 'uuid', description: 'The Microsoft Entra tenant id (GUID).' })
  @IsUUID('all', { message: 'tenantId must be a GUID' })
  tenantId: string;

  @ApiProperty({ enum: CLOUD_NAMES })
  @IsIn(CLOUD_NAMES as unknown as string[], { message: `cloud must be one of ${CLOUD_NAMES.join(', ')}` })
  cloud: CloudName;

  @ApiProperty({ format: 'uuid', description: "The application (client) id of Cordon's app registration in that tenant." })
  @IsUUID('all', { message: 'clientId must be a GUID' })
  clientId: string;

  @ApiProperty({ type: CredentialDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => CredentialDto)
  credential: CredentialDto;
}

export class UpdateTenantDto {
  @Text(200, { optional: true })
  displayName?: string;

  @ApiPropertyOptional({ description: 'false stops collection and actions for the tenant.' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ type: CredentialDto, description: 'A new credential (rotation); the connection is tested again.' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => CredentialDto)
  credential?: CredentialDto;
}

export class PrivilegedAppDto {
  @ApiProperty({
    format: 'uuid',
    description:
      "The application (client) id of a second app registration in the same Microsoft tenant, holding the permissions that let an app grant itself more (README 'A second app registration for the riskiest permissions').",
  })
  @IsUUID('all', { message: 'clientId must be a GUID' })
  clientId: string;

  @ApiProperty({ type: CredentialDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => CredentialDto)
  credential: CredentialDto;
}

export class PrivilegedAppView {
  @ApiProperty({ format: 'uuid' }) clientId: string;
  @ApiProperty({ description: 'The credential itself is never returned.', example: { type: 'secret' } })
  credential: { type: 'secret' | 'certificate'; thumbprint?: string; expiresAt?: string };
  @ApiProperty() updatedBy: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class TenantIdParam {
  @UuidParam()
  id: string;
}

export class TenantResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() displayName: string;
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty({ enum: CLOUD_NAMES }) cloud: string;
  @ApiProperty({ format: 'uuid' }) clientId: string;
  @ApiProperty({
    description: 'The credential itself is never returned.',
    example: { type: 'certificate', thumbprint: 'A1B2…', expiresAt: '2027-01-01T00:00:00.000Z' },
  })
  credential: { type: 'secret' | 'certificate'; thumbprint?: string; expiresAt?: string };
  @ApiProperty({
    type: PrivilegedAppView,
    nullable: true,
    description: 'The second app registration used for the permissions that let an app grant itself more; null when there is none.',
  })
  privilegedApp: PrivilegedAppView | null;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ description: 'The last connection test.', example: { status: 'connected', detail: null, checkedAt: '2026-11-26T10:00:00.000Z' } })
  connection: { status: 'pending' | 'connected' | 'credential-error' | 'unreachable'; detail: string | null; checkedAt: string | null };
  @ApiProperty() createdBy: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class TenantPage {
  @ApiProperty({ type: [TenantResponse] }) items: TenantResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
