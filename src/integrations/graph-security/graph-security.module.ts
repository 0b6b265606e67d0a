import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CollectionModule } from '../../collection/collection.module';
import { MicrosoftModule } from '../../microsoft';
import { WebhooksModule } from '../../webhooks/webhooks.module';
import { AlertsController } from './alerts.controller';
import { GraphSecurityCollector } from './graph-security.collector';
import { IncidentsController } from './incidents.controller';
import { SecurityAlertEntity, SecurityIncidentEntity } from './security-objects.entity';
import { SecurityRepository } from './security.repository';
import { SecurityRetentionService } from './security-retention.service';
import { SecurityTelemetryService } from './security-telemetry.service';

/** Defender XDR alerts and incidents through Graph: the collector (registered with the engine) and the read APIs. */
@Module({
  imports: [TypeOrmModule.forFeature([SecurityAlertEntity, SecurityIncidentEntity]), CollectionModule, MicrosoftModule, WebhooksModule],
  controllers: [AlertsController, IncidentsController],
  providers: [GraphSecurityCollector, SecurityRepository, SecurityTelemetryService, SecurityRetentionService],
})
export class GraphSecurityModule {}
