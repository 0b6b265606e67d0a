import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EventEntity } from './collection.entity';

export interface EventFilter {
  tenantIds: string[] | null;
  source?: string;
  workload?: string;
  operation?: string;
  user?: string;
  ip?: string;
  since?: string;
  until?: string;
}

/** Reads of the events store: newest first, keyset on (occurred_at, id) so a page is an index range. */
@Injectable()
export class EventsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  page(filter: EventFilter, limit: number, before?: { occurredAt: string; id: string }): Promise<EventEntity[]> {
    const q = this.dataSource.getRepository(EventEntity).createQueryBuilder('e').orderBy('e.occurred_at', 'DESC').addOrderBy('e.id', 'DESC').limit(limit);
    if (filter.tenantIds) q.andWhere('e.tenant_id IN (:...tenantIds)', { tenantIds: filter.tenantIds.length ? filter.tenantIds : ['00000000-0000-0000-0000-000000000000'] });
    if (filter.source) q.andWhere('e.source = :source', { source: filter.source });
    if (filter.workload) q.andWhere('e.workload = :workload', { workload: filter.workload });
    if (filter.operation) q.andWhere('e.operation = :operation', { operation: filter.operation });
    if (filter.user) q.andWhere('e.user_id = :user', { user: filter.user.toLowerCase() });
    if (filter.ip) q.andWhere('e.client_ip = CAST(:ip AS inet)', { ip: filter.ip });
    if (filter.since) q.andWhere('e.occurred_at >= :since', { since: filter.since });
    if (filter.until) q.andWhere('e.occurred_at < :until', { until: filter.until });
    // A row comparison, so the (…, occurred_at, id) indexes serve it as one range.
    if (before) q.andWhere('(e.occurred_at, e.id) < (CAST(:at AS timestamptz), CAST(:id AS uuid))', { at: before.occurredAt, id: before.id });
    return q.getMany();
  }
}
