import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { RequestContext } from '../../access/access.decorator';
import { AuditLogService } from '../../audit-log/audit-log.service';
import { decodeCursor, Page, toPage } from '../../common/paging';
import { Problem } from '../../common/problem';
import { JobsService } from '../../jobs/jobs.service';
import { TenantsService } from '../../tenants/tenants.service';
import { ActionCatalogue } from '../action-catalogue';
import { StepError, type ActionHandler, type ActionTarget } from '../action-handler';
import type { ContainmentQueryDto, ContainmentResponse, ContainmentsVerifyResponse } from './containments.dto';
import { ContainmentRow, ReleasesRepository } from './releases.repository';

/** The daily verification of active containments (one job for all replicas, pg-boss cron, UTC). */
export const VERIFY_QUEUE = 'containments.verify';

const VERIFY_ACTOR = { type: 'system' as const, id: 'containment-verification', name: 'containment verification' };
/** Containments read back per tenant and run (newest first). */
const VERIFY_LIMIT = 1000;

/**
 * The containments board (`GET /v1/containments`) and the drift check. A containment is the latest
 * successful action of a containing type (one whose handler declares its inverse, `ActionHandler.release`)
 * per tenant, type and target; it is released once its inverse succeeded after it, and drifted when the
 * last check read it back undone at Microsoft (`ReleaseDeclaration.check`: user sign-in, device isolation
 * and app restriction, disabled apps; the containment group has no check).
 */
@Injectable()
export class ContainmentsService implements OnModuleInit {
  private readonly logger = new Logger(ContainmentsService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly catalogue: ActionCatalogue,
    private readonly releases: ReleasesRepository,
    private readonly tenants: TenantsService,
    private readonly jobs: JobsService,
    private readonly auditLog: AuditLogService,
  ) {}

  onModuleInit(): void {
    this.jobs.register({ name: VERIFY_QUEUE, cron: '41 4 * * *', handle: async () => this.verifyAll() });
  }

  /** Every containing type, its kind, its inverse and its check. */
  private containing(kind?: string): Array<{ type: string; handler: ActionHandler & { release: NonNullable<ActionHandler['release']> } }> {
    return this.catalogue
      .types()
      .map((type) => ({ type, handler: this.catalogue.get(type) }))
      .filter((c): c is { type: string; handler: ActionHandler & { release: NonNullable<ActionHandler['release']> } } => c.handler.release !== undefined)
      .filter((c) => kind === undefined || c.handler.targetKind === kind);
  }

  async list(query: ContainmentQueryDto, context: RequestContext): Promise<Page<ContainmentResponse>> {
    if (query.tenantId) await this.tenants.findVisible(context.principal, query.tenantId);
    const after = decodeCursor(query.cursor, 2) as [string, string] | undefined;
    const kinds = this.containing(query.kind);
    const rows = await this.releases.containments(
      {
        tenantIds: context.principal.tenantIds,
        tenantId: query.tenantId,
        types: kinds.map((k) => k.type),
        inverses: kinds.map((k) => k.handler.release.type),
        state: query.state,
      },
      query.limit,
      after && { completedAt: after[0], id: after[1] },
    );
    return toPage(
      rows,
      query.limit,
      (r) => [new Date(r.completedAt).toISOString(), r.actionId],
      (r) => this.view(r),
    );
  }

  private view(r: ContainmentRow): ContainmentResponse {
    const target = r.target as { requested?: string; id?: string; display?: string };
    const handler = this.catalogue.get(r.type);
    return {
      tenantId: r.tenantId,
      kind: handler.targetKind,
      target: { id: target.id ?? r.targetKey, display: target.display ?? r.targetKey, requested: target.requested ?? r.targetKey },
      state: r.state,
      actionId: r.actionId,
      type: r.type,
      requestedBy: r.requestedBy,
      reason: r.reason,
      ticket: r.ticket,
      since: new Date(r.completedAt).toISOString(),
      ...(r.releaseStatus
        ? {
            release: {
              scheduledAt: new Date(r.releaseScheduledAt!).toISOString(),
              status: r.releaseStatus,
              ...(r.releaseActionId ? { actionId: r.releaseActionId } : {}),
            },
          }
        : {}),
      ...(r.releasedBy ? { releasedBy: { actionId: r.releasedBy, at: new Date(r.releasedAt!).toISOString() } } : {}),
      ...(r.checkState
        ? {
            check: {
              checkedAt: new Date(r.checkedAt!).toISOString(),
              state: r.checkState,
              found: r.checkFound ?? '',
              ...(r.checkDetail ? { detail: r.checkDetail } : {}),
            },
          }
        : { check: null }),
      releasedWith: handler.release!.type,
      checked: handler.release!.check !== undefined,
    };
  }

  /** POST /v1/containments/verify?tenantId: the drift check of one tenant, now (admins). */
  async verifyNow(tenantId: string, context: RequestContext): Promise<ContainmentsVerifyResponse> {
    const tenant = await this.tenants.findVisible(context.principal, tenantId);
    if (!tenant.enabled) throw new Problem(409, 'tenant-disabled', 'Tenant disabled', `Tenant ${tenant.id} is disabled; enable it to verify its containments.`);
    return this.verifyTenant(tenantId, context.requestId);
  }

  /** The daily job: every enabled tenant with active containments. */
  async verifyAll(): Promise<void> {
    const tenants: Array<{ id: string }> = await this.dataSource.query(
      `SELECT DISTINCT t.id FROM tenants t JOIN actions a ON a.tenant_id = t.id
        WHERE t.enabled AND t.deleted_at IS NULL AND a.type = ANY($1::text[]) AND a.status IN ('succeeded', 'partially_succeeded') AND NOT a.dry_run`,
      [this.containing().map((c) => c.type)],
    );
    for (const t of tenants) {
      await this.verifyTenant(t.id, `verify:${new Date().toISOString()}`).catch((error) =>
        this.logger.warn({ err: error, tenantId: t.id }, 'containment verification of a tenant failed'),
      );
    }
  }

  /**
   * Reads each active (or drifted) containment of the tenant back at Microsoft where its type has a
   * check, and records what it found; a containment found undone is `drifted` (audited when it first is).
   */
  private async verifyTenant(tenantId: string, requestId: string): Promise<ContainmentsVerifyResponse> {
    const kinds = this.containing();
    const counts: ContainmentsVerifyResponse = { tenantId, checked: 0, holds: 0, drifted: 0, unknown: 0, failed: 0, notCheckable: 0 };
    const filter = { tenantIds: null, tenantId, types: kinds.map((k) => k.type), inverses: kinds.map((k) => k.handler.release.type) };
    const rows = (await this.releases.containments(filter, VERIFY_LIMIT)).filter((r) => r.state !== 'released');
    for (const row of rows) {
      const check = this.catalogue.get(row.type).release?.check;
      if (!check) {
        counts.notCheckable++;
        continue;
      }
      counts.checked++;
      let state: 'holds' | 'drifted' | 'unknown' | 'failed';
      let found: string;
      let detail: Record<string, unknown> | null = null;
      try {
        const result = await check(tenantId, row.target as unknown as ActionTarget, new Date(row.completedAt));
        state = result.holds === null ? 'unknown' : result.holds ? 'holds' : 'drifted';
        found = result.found;
        detail = result.detail ?? null;
      } catch (error) {
        state = 'failed';
        found = `the read failed: ${error instanceof Error ? error.message : String(error)}`;
        detail = error instanceof StepError ? error.toJSON() : null;
      }
      counts[state]++;
      await this.releases.recordCheck(row.actionId, tenantId, { state, found, detail });
      if (state === 'drifted' && row.checkState !== 'drifted') {
        const target = row.target as { display?: string };
        await this.auditLog.record({
          event: 'containment.drifted',
          actor: VERIFY_ACTOR,
          tenantId,
          actionId: row.actionId,
          subject: `${row.type}:${target.display ?? row.targetKey}`,
          requestId,
          data: { found, ...(detail ? { detail } : {}) },
        });
      }
    }
    return counts;
  }
}
