import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CollectionModule } from '../../collection/collection.module';
import { MicrosoftModule } from '../../microsoft';
import { registerCapabilities } from '../../tenants/capability-registry';
import { TenantsModule } from '../../tenants/tenants.module';
import { WebhooksModule } from '../../webhooks/webhooks.module';
import { AlertsController } from './alerts.controller';
import { GRAPH_SECURITY_CAPABILITIES } from './graph-security.capabilities';
import { GraphSecurityCollector } from './graph-security.collector';
import { IncidentsController } from './incidents.controller';
import { SecurityAlertEntity, SecurityIncidentEntity } from './security-objects.entity';
import { SecurityRepository } from './security.repository';
import { SecurityRetentionService } from './security-retention.service';
import { SecurityTelemetryService } from './security-telemetry.service';

/** Defender XDR alerts and incidents through Graph: the collector (registered with the engine) and the read APIs. */
@Module({
  imports: [TypeOrmModule.forFeature([SecurityAlertEntity, SecurityIncidentEntity]), CollectionModule, MicrosoftModule, TenantsModule, WebhooksModule],
  controllers: [AlertsController, IncidentsController],
  providers: [
    GraphSecurityCollector,
    SecurityRepository,
    SecurityTelemetryService,
    SecurityRetentionService,
    registerCapabilities(...GRAPH_SECURITY_CAPABILITIES),
  ],
})
export class GraphSecurityModule {}
