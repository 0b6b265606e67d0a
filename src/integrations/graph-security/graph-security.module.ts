import { TenantGraphs } from '../tenant-graphs';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ActionsModule } from '../../actions/actions.module';
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
import { XdrActions } from './xdr-actions';
import { XdrActionsController } from './xdr-actions.controller';

/** Defender XDR alerts and incidents through Graph: the collector (registered with the engine), the read APIs, and the alert.* and incident.* actions. */
@Module({
  imports: [
    TypeOrmModule.forFeature([SecurityAlertEntity, SecurityIncidentEntity]),
    ActionsModule,
    CollectionModule,
    MicrosoftModule,
    TenantsModule,
    WebhooksModule,
  ],
  controllers: [AlertsController, IncidentsController, XdrActionsController],
  providers: [
    GraphSecurityCollector,
    SecurityRepository,
    SecurityTelemetryService,
    SecurityRetentionService,
    TenantGraphs,
    XdrActions,
    registerCapabilities(...GRAPH_SECURITY_CAPABILITIES),
  ],
})
export class GraphSecurityModule {}
