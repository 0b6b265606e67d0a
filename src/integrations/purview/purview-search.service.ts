import { Injectable } from '@nestjs/common';
import type { AuditContext } from '../../audit-log/audit-entry';
import { AuditLogService } from '../../audit-log/audit-log.service';
import type { Principal } from '../../access/principal';
import { decodeCursor, Page, toPage } from '../../common/paging';
import { Problem, problems } from '../../common/problem';
import { TenantCapabilitiesService } from '../../tenants/tenant-capabilities.service';
import type { TenantEntity } from '../../tenants/tenant.entity';
import { TenantsService } from '../../tenants/tenants.service';
import type { AuditSearchResponse, CreateAuditSearchDto } from './dto/audit-search.dto';
import type { PurviewSearchEntity } from './purview-search.entity';
import { PurviewSearchProcessor } from './purview-search.processor';
import { PurviewSearchRepository } from './purview-search.repository';

const DAY = 86_400_000;
/** Purview (Standard) keeps audit records 180 days; peers search that far back (microsoft-notes §3.4). */
const MAX_LOOKBACK_DAYS = 180;
const CAPABILITY = 'purview-audit-search';
const UNUSABLE = new Set(['unlicensed', 'forbidden']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The Management Activity content type a backfilled gap came from, as Purview's `serviceFilter`.
 * Audit.SharePoint also holds OneDrive, and Audit.General and DLP.All many workloads: no filter
 * there (the wider search only re-reads records, which the events store dedupes).
 */
const SERVICE_OF_STREAM: Record<string, string> = { 'audit.exchange': 'Exchange', 'audit.azureactivedirectory': 'AzureActiveDirectory' };

interface NewSearch {
  since: Date;
  until: Date;
  recordTypes: string[];
  users: string[];
  operations: string[];
  service: string | null;
  gapId?: string;
}

/** Purview audit searches for analysts, and backfills of collection gaps through them. */
@Injectable()
export class PurviewSearchService {
  constructor(
    private readonly repository: PurviewSearchRepository,
    private readonly processor: PurviewSearchProcessor,
    private readonly tenants: TenantsService,
    private readonly capabilities: TenantCapabilitiesService,
    private readonly auditLog: AuditLogService,
  ) {}

  async create(principal: Principal, tenantId: string, input: CreateAuditSearchDto, context: AuditContext): Promise<AuditSearchResponse> {
    const tenant = await this.tenants.findVisible(principal, tenantId);
    const since = new Date(input.since);
    const until = new Date(input.until);
    const errors: Array<{ field: string; message: string }> = [];
    if (!(since < until)) errors.push({ field: 'until', message: 'must be after since' });
    if (since.getTime() < Date.now() - MAX_LOOKBACK_DAYS * DAY)
      errors.push({ field: 'since', message: `must be within the last ${MAX_LOOKBACK_DAYS} days (Purview keeps audit records that long)` });
    if (since.getTime() > Date.now()) errors.push({ field: 'since', message: 'must not be in the future' });
    if (errors.length) throw problems.validation(errors);
    const dedupe = (list?: string[]) => [...new Set(list ?? [])];
    return this.start(
      tenant,
      {
        since,
        until,
        recordTypes: dedupe(input.recordTypes),
        users: dedupe(input.users?.map((u) => u.toLowerCase())),
        operations: dedupe(input.operations),
        service: input.service ?? null,
      },
      context,
    );
  }

  /**
   * `POST …/collection/{stream}/backfill`: searches Purview for what a gap of the Management Activity
   * collector lost (its window, or for a lost content blob the day before the blob was made available),
   * and links the search to the gap; the gap counts as covered once the search has succeeded.
   */
  async backfill(principal: Principal, tenantId: string, stream: string, gapId: string, context: AuditContext): Promise<AuditSearchResponse> {
    const tenant = await this.tenants.findVisible(principal, tenantId);
    const gap = await this.repository.findGap(tenant.id, gapId);
    if (!gap || gap.stream.toLowerCase() !== stream.toLowerCase())
      throw problems.notFound(`No gap ${gapId} of ${stream} for tenant ${tenantId}; see GET /v1/tenants/${tenantId}/collection.`);
    if (gap.source !== 'management-activity') {
      throw new Problem(
        409,
        'backfill-unsupported',
        'Backfill unsupported',
        `Gaps of ${gap.source} cannot be backfilled through Purview audit search; only the Management Activity API's records are in it.`,
      );
    }
    const existing = await this.repository.activeBackfillOf(gap.id);
    if (existing)
      throw new Problem(409, 'backfill-exists', 'Backfill exists', `Gap ${gap.id} is already being backfilled (or was) by audit search ${existing.id}.`, {
        searchId: existing.id,
      });
    const until = gap.windowEnd ?? gap.contentCreated ?? gap.detectedAt;
    const since = gap.windowStart ?? new Date(until.getTime() - DAY);
    const earliest = new Date(Date.now() - MAX_LOOKBACK_DAYS * DAY);
    if (until <= earliest)
      throw new Problem(409, 'backfill-unsupported', 'Backfill unsupported', `Gap ${gap.id} ended before the ${MAX_LOOKBACK_DAYS} days Purview keeps.`);
    const search: NewSearch = {
      since: since < earliest ? earliest : since,
      until,
      recordTypes: [],
      users: [],
      operations: [],
      service: SERVICE_OF_STREAM[gap.stream.toLowerCase()] ?? null,
      gapId: gap.id,
    };
    try {
      return await this.start(tenant, search, context);
    } catch (error) {
      // Two requests at once: the unique index lets one backfill per gap through.
      if ((error as { code?: string }).code === '23505' || /purview_searches_gap_idx/.test(String(error))) {
        throw new Problem(409, 'backfill-exists', 'Backfill exists', `Gap ${gap.id} is already being backfilled.`);
      }
      throw error;
    }
  }

  async get(principal: Principal, tenantId: string, searchId: string): Promise<AuditSearchResponse> {
    const tenant = await this.tenants.findVisible(principal, tenantId);
    const found = await this.repository.findOfTenant(tenant.id, searchId);
    if (!found) throw problems.notFound(`No audit search ${searchId} for tenant ${tenantId}.`);
    return toResponse(found);
  }

  async list(principal: Principal, tenantId: string, query: { limit: number; cursor?: string }): Promise<Page<AuditSearchResponse>> {
    const tenant = await this.tenants.findVisible(principal, tenantId);
    const before = decodeCursor(query.cursor, 2) as [string, string] | undefined;
    if (before && (typeof before[0] !== 'string' || Number.isNaN(Date.parse(before[0])) || typeof before[1] !== 'string' || !UUID.test(before[1]))) {
      throw problems.validation([{ field: 'cursor', message: 'cursor is not a cursor this server issued' }]);
    }
    const rows = await this.repository.page(tenant.id, query.limit + 1, before && { createdAt: before[0], id: before[1] });
    return toPage(rows, query.limit, (s) => [s.createdAt.toISOString(), s.id], toResponse);
  }

  private async start(tenant: TenantEntity, search: NewSearch, context: AuditContext): Promise<AuditSearchResponse> {
    await this.assertSearchable(tenant);
    const created = await this.repository.transaction(async (manager) => {
      const row = await this.repository.insert(manager, {
        tenantId: tenant.id,
        filterStart: search.since,
        filterEnd: search.until,
        recordTypes: search.recordTypes,
        users: search.users,
        operations: search.operations,
        service: search.service,
        gapId: search.gapId ?? null,
        requestedBy: context.actor,
      });
      await this.auditLog.append(manager, {
        event: search.gapId ? 'collection.backfill.requested' : 'purview.search.requested',
        actor: context.actor,
        tenantId: tenant.id,
        subject: `audit-search:${row.id}`,
        requestId: context.requestId,
        data: {
          searchId: row.id,
          since: search.since.toISOString(),
          until: search.until.toISOString(),
          recordTypes: search.recordTypes,
          users: search.users,
          operations: search.operations,
          service: search.service,
          gapId: search.gapId ?? null,
        },
      });
      await this.processor.enqueue(row.id, 0, manager);
      return row;
    });
    return toResponse((await this.repository.findOfTenant(tenant.id, created.id))!);
  }

  private async assertSearchable(tenant: TenantEntity): Promise<void> {
    if (!tenant.enabled) throw new Problem(409, 'tenant-disabled', 'Tenant disabled', `Tenant ${tenant.id} is disabled; enable it to search it.`);
    if (tenant.cloud !== 'global') {
      // Graph's audit query exists in the global cloud only (microsoft-notes M21).
      throw new Problem(
        409,
        'capability-unavailable',
        'Capability unavailable',
        `Purview audit search is offered in the global cloud only; tenant ${tenant.id} is in ${tenant.cloud}.`,
        { capability: CAPABILITY, capabilityStatus: 'unlicensed' },
      );
    }
    const status = await this.capabilities.statusOf(tenant.id, CAPABILITY);
    if (status && UNUSABLE.has(status.status)) {
      throw new Problem(
        409,
        'capability-unavailable',
        'Capability unavailable',
        `Audit search needs ${CAPABILITY}, which is ${status.status}${status.detail ? `: ${status.detail}` : ''} for this tenant.`,
        { capability: CAPABILITY, capabilityStatus: status.status },
      );
    }
  }
}

function toResponse(s: PurviewSearchEntity): AuditSearchResponse {
  return {
    id: s.id,
    tenantId: s.tenantId,
    status: s.status,
    microsoftStatus: s.microsoftStatus === 'creating' ? null : s.microsoftStatus,
    queryId: s.queryId,
    since: s.filterStart.toISOString(),
    until: s.filterEnd.toISOString(),
    recordTypes: s.recordTypes,
    users: s.users,
    operations: s.operations,
    service: s.service,
    counts: { fetched: s.fetched, new: s.inserted, duplicates: s.duplicates },
    polls: s.polls,
    error: s.error,
    backfill: s.gapId ? { gapId: s.gapId, stream: s.gap?.stream ?? '', covered: s.status === 'succeeded' } : null,
    requestedBy: { type: s.requestedBy.type, id: s.requestedBy.id, name: s.requestedBy.name ?? null },
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
    completedAt: s.completedAt ? s.completedAt.toISOString() : null,
  };
}
