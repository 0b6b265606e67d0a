import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { CollectionMetrics } from './collection.metrics';
import { CollectionRepository, type StreamKey } from './collection.repository';
import type { NormalizedEvent, StoreOutcome, UnitRecords } from './collector';
import { EventsRepository, type InsertOutcome } from './events.repository';

/**
 * The one writer of the events table, for collection runs and for records that arrive outside one
 * (a Purview audit search). Each call stores the records deduplicated on (tenant, source, record id),
 * raises the stream's newest record time and counts the records in the metrics, in one transaction.
 */
@Injectable()
export class EventStore {
  constructor(
    private readonly events: EventsRepository,
    private readonly collection: CollectionRepository,
    private readonly metrics: CollectionMetrics,
  ) {}

  /** A unit's records and its ledger entry (`done`, with the records and duplicates the whole unit held), together. */
  async storeUnit(key: StreamKey, unit: UnitRecords): Promise<StoreOutcome> {
    const stored = await this.collection.transaction(async (manager) => {
      const outcome = await this.insert(manager, key, unit.records);
      const total = { inserted: outcome.inserted + (unit.earlier?.inserted ?? 0), duplicates: outcome.duplicates + (unit.earlier?.duplicates ?? 0) };
      await this.collection.markLedger(manager, key, unit.unitId, 'done', unit.createdAt, total);
      return outcome;
    });
    this.metrics.blobs.inc(labelsOf(key));
    return this.counted(key, stored);
  }

  /**
   * Records that come in no unit (a Graph page, a batch of a unit not finished yet). With `manager`
   * they join the caller's transaction, so that the caller commits its own progress with them.
   */
  async storeRecords(key: StreamKey, records: NormalizedEvent[], manager?: EntityManager): Promise<StoreOutcome> {
    const stored = manager ? await this.insert(manager, key, records) : await this.collection.transaction((m) => this.insert(m, key, records));
    return this.counted(key, stored);
  }

  private async insert(manager: EntityManager, key: StreamKey, records: NormalizedEvent[]): Promise<InsertOutcome> {
    const outcome = await this.events.insert(manager, key, records);
    if (outcome.newest) await this.collection.raiseNewest(manager, key, outcome.newest);
    return outcome;
  }

  private counted(key: StreamKey, { inserted, duplicates }: StoreOutcome): StoreOutcome {
    this.metrics.records.inc({ ...labelsOf(key), outcome: 'new' }, inserted);
    this.metrics.records.inc({ ...labelsOf(key), outcome: 'duplicate' }, duplicates);
    return { inserted, duplicates };
  }
}

function labelsOf(key: StreamKey) {
  return { tenant: key.tenantId, source: key.source, stream: key.stream };
}
