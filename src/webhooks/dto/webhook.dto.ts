import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { PageQueryDto } from '../../common/paging';
import { MIN_SEVERITIES, WEBHOOK_EVENTS, type MinSeverity } from '../webhook-notification';

export class PutWebhookDto {
  @ApiProperty({
    example: 'https://soar.example.com/hooks/cordon',
    maxLength: 2048,
    description:
      'https only, to a host whose every address is public (not loopback, private, link-local, CGNAT, multicast or unspecified, nor an IPv6 form of those); checked when set and before every delivery, and each delivery connects to the address checked. Hosts in CORDON_WEBHOOK_ALLOWED_HOSTS are exempt (and may use http). Redirects are not followed.',
  })
  @IsString()
  @MaxLength(2048)
  url: string;

  @ApiProperty({
    minLength: 16,
    maxLength: 256,
    writeOnly: true,
    description: 'Shared secret for the HMAC-SHA256 signature; stored encrypted, never returned.',
  })
  @IsString()
  @MinLength(16)
  @MaxLength(256)
  secret: string;

  @ApiPropertyOptional({ enum: MIN_SEVERITIES, default: 'informational', description: 'Alerts and incidents below this severity are not sent.' })
  @IsOptional()
  @IsIn(MIN_SEVERITIES)
  minSeverity?: MinSeverity;
}

export class WebhookResponse {
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty() url: string;
  @ApiProperty({ enum: MIN_SEVERITIES }) minSeverity: string;
  @ApiProperty({ description: 'Always true: a secret is set (it is never returned).' }) secretSet: boolean;
  @ApiProperty({ enum: WEBHOOK_EVENTS, isArray: true, description: 'The events sent.' }) events: string[];
  @ApiProperty() updatedBy: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;

export class DeliveryQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: (typeof DELIVERY_STATUSES)[number];
}

export class DeliveryResponse {
  @ApiProperty({ format: 'uuid', description: 'Also sent as the `Cordon-Delivery` header and the payload `id`: receivers dedupe on it.' }) id: string;
  @ApiProperty({ enum: WEBHOOK_EVENTS }) event: string;
  @ApiProperty({ description: "Microsoft's alert or incident id." }) objectId: string;
  @ApiProperty({ nullable: true, type: String }) severity: string | null;
  @ApiProperty({ enum: DELIVERY_STATUSES, description: '`pending` until delivered or out of attempts.' }) status: string;
  @ApiProperty() attempts: number;
  @ApiProperty({ nullable: true, type: Number }) lastStatusCode: number | null;
  @ApiProperty({ nullable: true, type: String }) lastError: string | null;
  @ApiProperty({ description: 'The URL of the last attempt (the one configured at that time).' }) url: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastAttemptAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) deliveredAt: string | null;
}

export class DeliveryPage {
  @ApiProperty({ type: [DeliveryResponse] }) items: DeliveryResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
