import { Injectable } from '@nestjs/common';
import type { Principal } from '../../access/principal';
import { canAccessTenant } from '../../access/tenant-scope';
import { decodeCursor, Page, toPage } from '../../common/paging';
import { problems } from '../../common/problem';
import { AlertQueryDto, AlertResponse, IncidentQueryDto, IncidentResponse } from './dto/security.dto';
import { SecurityRepository, type SecurityKey } from './security.repository';
import { toAlertResponse, toIncidentResponse } from './security-view';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `GET /v1/alerts` and `GET /v1/incidents`: newest first; a tenant-scoped key sees only its tenants. */
@Injectable()
export class SecurityTelemetryService {
  constructor(private readonly repository: SecurityRepository) {}

  async alerts(principal: Principal, query: AlertQueryDto): Promise<Page<AlertResponse>> {
    const before = keyOf(query.cursor);
    const rows = await this.repository.pageAlerts(
      {
        tenantIds: visibleTenants(principal, query.tenantId),
        severity: query.severity,
        status: query.status,
        serviceSource: query.serviceSource,
        incidentId: query.incidentId,
        user: query.user,
        device: query.device,
        since: query.since,
        until: query.until,
      },
      query.limit + 1,
      before,
    );
    return toPage(rows, query.limit, (r) => [r.createdAt.toISOString(), r.tenantId, r.id], toAlertResponse);
  }

  async incidents(principal: Principal, query: IncidentQueryDto): Promise<Page<IncidentResponse>> {
    const before = keyOf(query.cursor);
    const rows = await this.repository.pageIncidents(
      { tenantIds: visibleTenants(principal, query.tenantId), severity: query.severity, status: query.status, since: query.since, until: query.until },
      query.limit + 1,
      before,
    );
    const counts = await this.repository.alertCounts(rows.slice(0, query.limit).map((r) => ({ tenantId: r.tenantId, id: r.id })));
    return toPage(
      rows,
      query.limit,
      (r) => [r.createdAt.toISOString(), r.tenantId, r.id],
      (r) => toIncidentResponse(r, counts.get(`${r.tenantId}|${r.id}`) ?? 0),
    );
  }
}

function visibleTenants(principal: Principal, tenantId: string | undefined): string[] | null {
  if (!tenantId) return principal.tenantIds;
  return canAccessTenant(principal, tenantId) ? [tenantId.toLowerCase()] : [];
}

function keyOf(cursor: string | undefined): SecurityKey | undefined {
  const key = decodeCursor(cursor, 3);
  if (!key) return undefined;
  const [createdAt, tenantId, id] = key;
  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt)) || typeof tenantId !== 'string' || !UUID.test(tenantId) || typeof id !== 'string') {
    throw problems.validation([{ field: 'cursor', message: 'cursor is not a cursor this server issued' }]);
  }
  return { createdAt, tenantId, id };
}
