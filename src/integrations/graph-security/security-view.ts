import type { AlertRow, IncidentRow } from './normalize';
import type { SecurityAlertEntity, SecurityIncidentEntity } from './security-objects.entity';
import type { AlertResponse, IncidentResponse } from './dto/security.dto';

/** The fields of an alert as Cordon serves it (API and webhook payloads share them). */
export function alertFields(tenantId: string, row: AlertRow): Omit<AlertResponse, 'firstCollectedAt' | 'collectedAt'> {
  return {
    tenantId,
    id: row.id,
    incidentId: row.incidentId,
    providerAlertId: row.providerAlertId,
    serviceSource: row.serviceSource,
    detectionSource: row.detectionSource,
    severity: row.severity,
    status: row.status,
    classification: row.classification,
    determination: row.determination,
    title: row.title,
    category: row.category,
    createdDateTime: row.createdAt,
    lastUpdateDateTime: row.lastUpdateAt,
    resolvedDateTime: row.resolvedAt,
    raw: row.raw,
  };
}

export function incidentFields(tenantId: string, row: IncidentRow): Omit<IncidentResponse, 'alertCount' | 'firstCollectedAt' | 'collectedAt'> {
  return {
    tenantId,
    id: row.id,
    displayName: row.displayName,
    severity: row.severity,
    status: row.status,
    classification: row.classification,
    determination: row.determination,
    assignedTo: row.assignedTo,
    redirectIncidentId: row.redirectIncidentId,
    createdDateTime: row.createdAt,
    lastUpdateDateTime: row.lastUpdateAt,
    raw: row.raw,
  };
}

export function toAlertResponse(e: SecurityAlertEntity): AlertResponse {
  const row: AlertRow = {
    ...e,
    createdAt: e.createdAt.toISOString(),
    lastUpdateAt: e.lastUpdateAt.toISOString(),
    resolvedAt: e.resolvedAt?.toISOString() ?? null,
  };
  return { ...alertFields(e.tenantId, row), firstCollectedAt: e.firstCollectedAt.toISOString(), collectedAt: e.collectedAt.toISOString() };
}

export function toIncidentResponse(e: SecurityIncidentEntity, alertCount: number): IncidentResponse {
  const row: IncidentRow = { ...e, createdAt: e.createdAt.toISOString(), lastUpdateAt: e.lastUpdateAt.toISOString() };
  return { ...incidentFields(e.tenantId, row), alertCount, firstCollectedAt: e.firstCollectedAt.toISOString(), collectedAt: e.collectedAt.toISOString() };
}
