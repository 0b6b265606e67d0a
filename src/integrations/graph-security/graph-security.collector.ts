import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { CollectContext, CollectSink, Collector, ObjectStoreOutcome } from '../../collection/collector';
import { CollectorRegistry } from '../../collection/collector-registry';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { GraphClientFactory } from '../../microsoft';
import { WebhooksService } from '../../webhooks/webhooks.service';
import type { WebhookNotification } from '../../webhooks/webhook-notification';
import { newestPerId, normalizeAlert, normalizeIncident, type AlertRow, type IncidentRow, type Normalized } from './normalize';
import { SecurityRepository, type ChangedRow } from './security.repository';
import { alertFields, incidentFields } from './security-view';

export const GRAPH_SECURITY_SOURCE = 'graph-security';

/**
 * Newer enum members (serviceSource `microsoftDefenderForCloud`, …) read `unknownFutureValue` without
 * it (microsoft-notes §3.2, M10). Sent on the first request and on every nextLink.
 */
export const PREFER_UNKNOWN_ENUMS = { Prefer: 'include-unknown-enum-members' };

interface StreamSpec<R extends { id: string; lastUpdateAt: string }> {
  path: string;
  pageSize: (config: AppConfig) => number;
  normalize: (raw: Record<string, unknown>) => Normalized<R>;
  upsert: (repository: SecurityRepository, manager: EntityManager, tenantId: string, rows: R[]) => Promise<ChangedRow[]>;
  notification: (tenantId: string, row: R, inserted: boolean) => WebhookNotification;
}

const ALERTS: StreamSpec<AlertRow> = {
  path: '/security/alerts_v2',
  pageSize: (config) => config.graphSecurity.alertsPageSize,
  normalize: normalizeAlert,
  upsert: (repository, manager, tenantId, rows) => repository.upsertAlerts(manager, tenantId, rows),
  notification: (tenantId, row, inserted) => ({
    event: inserted ? 'alert.created' : 'alert.updated',
    objectId: row.id,
    severity: row.severity,
    data: alertFields(tenantId, row),
  }),
};

// Listed without `$expand=alerts`: with a `$filter` on a large tenant it fails with a persistent 500
// and the cursor never moves (microsoft-notes M9, elastic/integrations#18144). An incident's alerts come from the
// alerts stream, each naming its `incidentId`.
const INCIDENTS: StreamSpec<IncidentRow> = {
  path: '/security/incidents',
  pageSize: (config) => config.graphSecurity.incidentsPageSize,
  normalize: normalizeIncident,
  upsert: (repository, manager, tenantId, rows) => repository.upsertIncidents(manager, tenantId, rows),
  notification: (tenantId, row, inserted) => ({
    event: inserted ? 'incident.created' : 'incident.updated',
    objectId: row.id,
    severity: row.severity,
    data: incidentFields(tenantId, row),
  }),
};

/**
 * Defender XDR alerts (`security/alerts_v2`) and incidents (`security/incidents`) through Graph, one
 * stream each. A run lists what changed since the cursor (the newest `lastUpdateDateTime` stored)
 * minus an overlap, follows `@odata.nextLink` to the end (never `$skip`, microsoft-notes M8), upserts each page by
 * id in its own transaction together with the webhook notifications of what it changed, and moves the
 * cursor once the listing has ended. A run that fails or dies keeps its committed pages and leaves the
 * cursor; the next run lists the same span again, and the upsert leaves unchanged objects alone.
 */
@Injectable()
export class GraphSecurityCollector implements Collector, OnModuleInit {
  readonly source = GRAPH_SECURITY_SOURCE;
  readonly streams = [
    { name: 'alerts', capability: 'alerts' },
    { name: 'incidents', capability: 'incidents' },
  ];

  constructor(
    private readonly graphs: GraphClientFactory,
    private readonly repository: SecurityRepository,
    private readonly webhooks: WebhooksService,
    private readonly registry: CollectorRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.registry.register(this);
  }

  run(ctx: CollectContext, sink: CollectSink): Promise<void> {
    if (ctx.stream === 'alerts') return this.collect(ctx, sink, ALERTS);
    if (ctx.stream === 'incidents') return this.collect(ctx, sink, INCIDENTS);
    throw new Error(`graph-security has no stream ${ctx.stream}`);
  }

  private async collect<R extends { id: string; lastUpdateAt: string }>(ctx: CollectContext, sink: CollectSink, spec: StreamSpec<R>): Promise<void> {
    const graph = this.graphs.forTenant(ctx.credentials);
    const since = ctx.cursor ? new Date(ctx.cursor.getTime() - this.config.graphSecurity.overlapMinutes * 60_000) : null;
    const query = {
      $top: spec.pageSize(this.config),
      // OData datetimes are unquoted (microsoft-notes §3); a first run takes everything Microsoft still has.
      ...(since ? { $filter: `lastUpdateDateTime ge ${since.toISOString()}` } : {}),
    };
    let newest = ctx.cursor;
    for await (const page of graph.pages<Record<string, unknown>>(spec.path, { query, headers: PREFER_UNKNOWN_ENUMS })) {
      ctx.signal?.throwIfAborted();
      const rows: R[] = [];
      for (const item of page) {
        const normalized = spec.normalize(item);
        if ('row' in normalized) rows.push(normalized.row);
        else await sink.gap({ reason: 'failed', detail: `${ctx.stream}: ${normalized.refused}; not stored: ${JSON.stringify(item).slice(0, 500)}` });
      }
      const unique = newestPerId(rows);
      const pageNewest = unique.reduce<Date | null>((max, r) => (!max || Date.parse(r.lastUpdateAt) > max.getTime() ? new Date(r.lastUpdateAt) : max), null);
      await sink.storeObjects({ newest: pageNewest, write: (manager) => this.store(manager, ctx.tenant.id, spec, unique) });
      if (pageNewest && (!newest || pageNewest > newest)) newest = pageNewest;
    }
    if (since) sink.window(since, new Date());
    if (newest) await sink.advance(newest);
  }

  /**
   * One object as Microsoft answered it to a single GET (an action read it back after changing it):
   * stored and notified like a collected version, so that Cordon's copy shows the change before the
   * next run, and that run finds the same version and leaves it alone. Answers false when Cordon could
   * not use the object.
   */
  async storeObject(tenantId: string, stream: 'alerts' | 'incidents', raw: Record<string, unknown>): Promise<boolean> {
    const { '@odata.context': _context, ...item } = raw; // a single GET carries it, a listing does not
    const spec = (stream === 'alerts' ? ALERTS : INCIDENTS) as StreamSpec<AlertRow | IncidentRow>;
    const normalized = spec.normalize(item);
    if (!('row' in normalized)) return false;
    await this.repository.transaction((manager) => this.store(manager, tenantId, spec, [normalized.row]));
    return true;
  }

  /** One page: upsert, then queue a webhook notification for each object the upsert inserted or changed. */
  private async store<R extends { id: string; lastUpdateAt: string }>(
    manager: EntityManager,
    tenantId: string,
    spec: StreamSpec<R>,
    rows: R[],
  ): Promise<ObjectStoreOutcome> {
    const changed = await spec.upsert(this.repository, manager, tenantId, rows);
    const byId = new Map(rows.map((r) => [r.id, r]));
    await this.webhooks.notify(
      manager,
      tenantId,
      changed.map((c) => spec.notification(tenantId, byId.get(c.id)!, c.inserted)),
    );
    const inserted = changed.filter((c) => c.inserted).length;
    return { inserted, updated: changed.length - inserted, unchanged: rows.length - changed.length };
  }
}
