import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, SelectQueryBuilder } from 'typeorm';
import type { AlertRow, IncidentRow } from './normalize';
import { SecurityAlertEntity, SecurityIncidentEntity } from './security-objects.entity';

/** A row the upsert inserted or replaced (rows it left alone are not returned). */
export interface ChangedRow {
  id: string;
  inserted: boolean;
}

export interface SecurityObjectFilter {
  tenantIds: string[] | null;
  severity?: string;
  status?: string;
  since?: string;
  until?: string;
}

export interface AlertFilter extends SecurityObjectFilter {
  serviceSource?: string;
  incidentId?: string;
  /** UPN or Entra object id named by the alert's evidence. */
  user?: string;
  /** DNS name or Defender machine id named by the alert's evidence. */
  device?: string;
}

/**
 * An alert names a user or device in its `evidence` list (Graph security alert v2: userEvidence.userAccount,
 * deviceEvidence.deviceDnsName / mdeDeviceId): https://learn.microsoft.com/graph/api/resources/security-alert.
 * `raw` is Microsoft's body as delivered, so a missing or non-array `evidence` is read as empty.
 */
const EVIDENCE_NAMES = (condition: string) =>
  `EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(o.raw->'evidence') = 'array' THEN o.raw->'evidence' ELSE '[]'::jsonb END) AS ev WHERE ${condition})`;

/** Keyset position: (created_at, tenant_id, id), newest first. */
export interface SecurityKey {
  createdAt: string;
  tenantId: string;
  id: string;
}

/**
 * The replacement rule of both upserts: a newer version replaces the row; the same version with a
 * different body does too (Microsoft does not always move lastUpdateDateTime); an older or identical
 * one changes nothing. Overlapping listings and re-runs after a crash are therefore harmless.
 */
const NEWER = (t: string) =>
  `${t}.last_update_at < EXCLUDED.last_update_at OR (${t}.last_update_at = EXCLUDED.last_update_at AND ${t}.raw IS DISTINCT FROM EXCLUDED.raw)`;

/** SQL of Defender alerts and incidents: upserts by (tenant, Microsoft id) and keyset reads. */
@Injectable()
export class SecurityRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async upsertAlerts(manager: EntityManager, tenantId: string, rows: AlertRow[]): Promise<ChangedRow[]> {
    if (rows.length === 0) return [];
    const result: unknown = await manager.query(
      `INSERT INTO security_alerts AS a (tenant_id, id, incident_id, provider_alert_id, service_source, detection_source, severity, status,
                                         classification, determination, title, category, created_at, last_update_at, resolved_at, raw)
       SELECT $1, r."id", r."incidentId", r."providerAlertId", r."serviceSource", r."detectionSource", r."severity", r."status",
              r."classification", r."determination", r."title", r."category", r."createdAt", r."lastUpdateAt", r."resolvedAt", r."raw"
         FROM jsonb_to_recordset($2::jsonb) AS r ("id" text, "incidentId" text, "providerAlertId" text, "serviceSource" text, "detectionSource" text,
              "severity" text, "status" text, "classification" text, "determination" text, "title" text, "category" text,
              "createdAt" timestamptz, "lastUpdateAt" timestamptz, "resolvedAt" timestamptz, "raw" jsonb)
       ON CONFLICT (tenant_id, id) DO UPDATE SET
         incident_id = EXCLUDED.incident_id, provider_alert_id = EXCLUDED.provider_alert_id, service_source = EXCLUDED.service_source,
         detection_source = EXCLUDED.detection_source, severity = EXCLUDED.severity, status = EXCLUDED.status,
         classification = EXCLUDED.classification, determination = EXCLUDED.determination, title = EXCLUDED.title, category = EXCLUDED.category,
         created_at = EXCLUDED.created_at, last_update_at = EXCLUDED.last_update_at, resolved_at = EXCLUDED.resolved_at, raw = EXCLUDED.raw,
         collected_at = now()
       WHERE ${NEWER('a')}
       RETURNING a.id, (a.xmax = 0) AS inserted`,
      [tenantId, JSON.stringify(rows)],
    );
    return changedRows(result);
  }

  async upsertIncidents(manager: EntityManager, tenantId: string, rows: IncidentRow[]): Promise<ChangedRow[]> {
    if (rows.length === 0) return [];
    const result: unknown = await manager.query(
      `INSERT INTO security_incidents AS i (tenant_id, id, display_name, severity, status, classification, determination, assigned_to,
                                            redirect_incident_id, created_at, last_update_at, raw)
       SELECT $1, r."id", r."displayName", r."severity", r."status", r."classification", r."determination", r."assignedTo",
              r."redirectIncidentId", r."createdAt", r."lastUpdateAt", r."raw"
         FROM jsonb_to_recordset($2::jsonb) AS r ("id" text, "displayName" text, "severity" text, "status" text, "classification" text,
              "determination" text, "assignedTo" text, "redirectIncidentId" text, "createdAt" timestamptz, "lastUpdateAt" timestamptz, "raw" jsonb)
       ON CONFLICT (tenant_id, id) DO UPDATE SET
         display_name = EXCLUDED.display_name, severity = EXCLUDED.severity, status = EXCLUDED.status, classification = EXCLUDED.classification,
         determination = EXCLUDED.determination, assigned_to = EXCLUDED.assigned_to, redirect_incident_id = EXCLUDED.redirect_incident_id,
         created_at = EXCLUDED.created_at, last_update_at = EXCLUDED.last_update_at, raw = EXCLUDED.raw, collected_at = now()
       WHERE ${NEWER('i')}
       RETURNING i.id, (i.xmax = 0) AS inserted`,
      [tenantId, JSON.stringify(rows)],
    );
    return changedRows(result);
  }

  pageAlerts(filter: AlertFilter, limit: number, before?: SecurityKey): Promise<SecurityAlertEntity[]> {
    const q = this.keyset(this.dataSource.getRepository(SecurityAlertEntity).createQueryBuilder('o'), filter, limit, before);
    if (filter.serviceSource) q.andWhere('lower(o.service_source) = lower(:serviceSource)', { serviceSource: filter.serviceSource });
    if (filter.incidentId) q.andWhere('o.incident_id = :incidentId', { incidentId: filter.incidentId });
    if (filter.user) {
      q.andWhere(EVIDENCE_NAMES(`lower(ev->'userAccount'->>'userPrincipalName') = lower(:user) OR lower(ev->'userAccount'->>'azureAdUserId') = lower(:user)`), {
        user: filter.user,
      });
    }
    if (filter.device) {
      q.andWhere(EVIDENCE_NAMES(`lower(ev->>'deviceDnsName') = lower(:device) OR lower(ev->>'mdeDeviceId') = lower(:device)`), { device: filter.device });
    }
    return q.getMany();
  }

  pageIncidents(filter: SecurityObjectFilter, limit: number, before?: SecurityKey): Promise<SecurityIncidentEntity[]> {
    return this.keyset(this.dataSource.getRepository(SecurityIncidentEntity).createQueryBuilder('o'), filter, limit, before).getMany();
  }

  /** How many collected alerts name each incident (incidents are read without `$expand=alerts`, microsoft-notes M9). */
  async alertCounts(keys: Array<{ tenantId: string; id: string }>): Promise<Map<string, number>> {
    if (keys.length === 0) return new Map();
    const rows: Array<{ tenant_id: string; incident_id: string; n: string | number }> = await this.dataSource.query(
      `SELECT a.tenant_id, a.incident_id, count(*) AS n
         FROM security_alerts a
         JOIN jsonb_to_recordset($1::jsonb) AS k ("tenantId" uuid, "id" text) ON a.tenant_id = k."tenantId" AND a.incident_id = k."id"
        GROUP BY a.tenant_id, a.incident_id`,
      [JSON.stringify(keys)],
    );
    return new Map(rows.map((r) => [`${r.tenant_id}|${r.incident_id}`, Number(r.n)]));
  }

  /** Deletes up to `limit` alerts or incidents last updated before `before`; answers how many went. */
  async deleteNotUpdatedSince(table: 'security_alerts' | 'security_incidents', before: Date, limit: number): Promise<number> {
    const rows: unknown[] = await this.dataSource.query(
      `DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE last_update_at < $1 LIMIT $2) RETURNING 1`,
      [before, limit],
    );
    return (Array.isArray(rows[0]) ? (rows[0] as unknown[]) : rows).length;
  }
  private keyset<T extends SecurityAlertEntity | SecurityIncidentEntity>(
    q: SelectQueryBuilder<T>,
    filter: SecurityObjectFilter,
    limit: number,
    before?: SecurityKey,
  ): SelectQueryBuilder<T> {
    q.orderBy('o.created_at', 'DESC').addOrderBy('o.tenant_id', 'DESC').addOrderBy('o.id', 'DESC').limit(limit);
    // Enum members compare case-insensitively (Microsoft's docs spell them both ways, microsoft-notes §3.2).
    if (filter.tenantIds)
      q.andWhere('o.tenant_id IN (:...tenantIds)', { tenantIds: filter.tenantIds.length ? filter.tenantIds : ['00000000-0000-0000-0000-000000000000'] });
    if (filter.severity) q.andWhere('lower(o.severity) = lower(:severity)', { severity: filter.severity });
    if (filter.status) q.andWhere('lower(o.status) = lower(:status)', { status: filter.status });
    if (filter.since) q.andWhere('o.created_at >= :since', { since: filter.since });
    if (filter.until) q.andWhere('o.created_at < :until', { until: filter.until });
    // A row comparison, so the (created_at, tenant_id, id) indexes serve it as one range.
    if (before) {
      q.andWhere('(o.created_at, o.tenant_id, o.id) < (CAST(:at AS timestamptz), CAST(:tenant AS uuid), CAST(:key AS text))', {
        at: before.createdAt,
        tenant: before.tenantId,
        key: before.id,
      });
    }
    return q;
  }
}

/** `RETURNING` rows of an INSERT (TypeORM answers rows; an UPDATE-style `[rows, count]` is accepted too). */
function changedRows(result: unknown): ChangedRow[] {
  if (!Array.isArray(result)) return [];
  const rows = result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number' ? (result[0] as unknown[]) : result;
  return rows.map((r) => {
    const row = r as { id: string; inserted: boolean | string };
    return { id: row.id, inserted: row.inserted === true || row.inserted === 't' };
  });
}
