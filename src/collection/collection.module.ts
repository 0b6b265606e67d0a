import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { HealthModule } from '../health/health.module';
import { TenantsModule } from '../tenants/tenants.module';
import { CollectionRunnerService } from './collection-runner.service';
import { CollectionController } from './collection.controller';
import { CollectionGapEntity, CollectionLedgerEntity, CollectionRunEntity, CollectionStreamEntity, EventEntity } from './collection.entity';
import { CollectionMetrics } from './collection.metrics';
import { CollectionRepository } from './collection.repository';
import { CollectionService } from './collection.service';
import { CollectorRegistry } from './collector-registry';
import { EventStore } from './event-store';
import { EventsRetentionService } from './events-retention.service';
import { EventsController } from './events.controller';
import { EventsRepository } from './events.repository';
import { EventsService } from './events.service';

/**
 * The collection engine: streams, schedule, runs, cursors, gaps and the events store. Integrations
 * import it and register a Collector with the CollectorRegistry; they never touch its tables.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([CollectionStreamEntity, CollectionRunEntity, CollectionGapEntity, CollectionLedgerEntity, EventEntity]),
    TenantsModule,
    HealthModule,
  ],
  controllers: [CollectionController, EventsController],
  providers: [
    CollectorRegistry,
    CollectionRepository,
    CollectionRunnerService,
    CollectionService,
    CollectionMetrics,
    EventsRepository,
    EventsService,
    EventsRetentionService,
    EventStore,
  ],
  exports: [CollectorRegistry, CollectionService, CollectionRunnerService, EventsRetentionService, EventStore],
})
export class CollectionModule {}
