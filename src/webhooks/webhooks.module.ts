import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { HostResolver } from '../common/outbound-url';
import { HealthModule } from '../health/health.module';
import { TenantsModule } from '../tenants/tenants.module';
import { TenantWebhookEntity, WebhookDeliveryEntity } from './webhook.entity';
import { WebhookMetrics } from './webhook.metrics';
import { WebhookSecrets } from './webhook-secrets';
import { WebhooksController } from './webhooks.controller';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

/**
 * The per-tenant outbound webhook: configuration, signed delivery with retries, the delivery log.
 * Collectors import it and call `WebhooksService.notify` in the transaction that stores a change.
 */
@Module({
  imports: [TypeOrmModule.forFeature([TenantWebhookEntity, WebhookDeliveryEntity]), TenantsModule, HealthModule],
  controllers: [WebhooksController],
  providers: [WebhooksRepository, WebhooksService, WebhookSecrets, WebhookMetrics, HostResolver],
  exports: [WebhooksService],
})
export class WebhooksModule {}
