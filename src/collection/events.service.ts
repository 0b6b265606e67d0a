import { Injectable } from '@nestjs/common';
import type { Principal } from '../access/principal';
import { canAccessTenant } from '../access/tenant-scope';
import { decodeCursor, Page, toPage } from '../common/paging';
import { problems } from '../common/problem';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
import type { EventEntity } from './collection.entity';
import { EventQueryDto, EventResponse } from './dto/event.dto';
import { EventsRepository } from './events.repository';

function toEventResponse(e: EventEntity): EventResponse {
  return {
    id: e.id,
    tenantId: e.tenantId,
    source: e.source,
    stream: e.stream,
    recordId: e.recordId,
    occurredAt: e.occurredAt.toISOString(),
    workload: e.workload,
    recordType: e.recordType,
    operation: e.operation,
    resultStatus: e.resultStatus,
    userId: e.userId,
    userType: e.userType,
    clientIp: e.clientIp,
    objectId: e.objectId,
    raw: e.raw,
    collectedAt: e.collectedAt.toISOString(),
  };
}

/** The events store for analysts; a tenant-scoped key sees only its tenants' events. */
@Injectable()
export class EventsService {
  constructor(private readonly repository: EventsRepository) {}

  async list(principal: Principal, query: EventQueryDto): Promise<Page<EventResponse>> {
    const before = decodeCursor(query.cursor, 2) as [string, string] | undefined;
    if (before && (typeof before[0] !== 'string' || Number.isNaN(Date.parse(before[0])) || typeof before[1] !== 'string' || !UUID.test(before[1]))) {
      throw problems.validation([{ field: 'cursor', message: 'cursor is not a cursor this server issued' }]);
    }
    let tenantIds = principal.tenantIds;
    if (query.tenantId) tenantIds = canAccessTenant(principal, query.tenantId) ? [query.tenantId.toLowerCase()] : [];
    const rows = await this.repository.page({ ...query, tenantIds }, query.limit + 1, before && { occurredAt: before[0], id: before[1] });
    return toPage(rows, query.limit, (e) => [e.occurredAt.toISOString(), e.id], toEventResponse);
  }
}
