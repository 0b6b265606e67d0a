import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { CollectionMetrics } from './collection.metrics';
import { CollectionRepository, type StreamKey } from './collection.repository';
import type { NormalizedEvent, StoreOutcome } from './collector';

/**
 * The events store for records that arrive outside a collection run (an on-demand Purview audit
 * search): the same insert, dedupe on (tenant, source, record id) and metrics as a run's, in the
 * caller's transaction so that the caller can commit its own progress with the records.
 */
@Injectable()
export class EventStore {
  constructor(
    private readonly repository: CollectionRepository,
    private readonly metrics: CollectionMetrics,
  ) {}

  async insert(manager: EntityManager, key: StreamKey, records: NormalizedEvent[]): Promise<StoreOutcome> {
    const { inserted, duplicates } = await this.repository.insertEvents(manager, key, records);
    const labels = { tenant: key.tenantId, source: key.source, stream: key.stream };
    this.metrics.records.inc({ ...labels, outcome: 'new' }, inserted);
    this.metrics.records.inc({ ...labels, outcome: 'duplicate' }, duplicates);
    return { inserted, duplicates };
  }
}
