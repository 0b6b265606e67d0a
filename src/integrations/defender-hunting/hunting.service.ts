import { Inject, Injectable } from '@nestjs/common';
import type { AuditContext } from '../../audit-log/audit-entry';
import { AuditLogService } from '../../audit-log/audit-log.service';
import type { Principal } from '../../access/principal';
import { Problem } from '../../common/problem';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { MicrosoftApiError } from '../../microsoft';
import { TenantCapabilitiesService } from '../../tenants/tenant-capabilities.service';
import type { TenantEntity } from '../../tenants/tenant.entity';
import { TenantsService } from '../../tenants/tenants.service';
import { ADVANCED_HUNTING } from './defender-hunting.capabilities';
import type { HuntingQueryDto, HuntingResponse } from './dto/hunting.dto';
import { HuntingClient, type HuntingResult } from './hunting-client';

const UNUSABLE = new Set(['unlicensed', 'forbidden']);

/**
 * On-demand hunting: one analyst query run as Microsoft runs it, within the tenant's quotas (shared with
 * the collector), the rows capped. Audited with the query text and the row count (never the rows), also
 * when Microsoft refuses it; Microsoft's refusals become problems: a query it cannot run 400, a quota 429
 * with Retry-After, a missing licence or permission 409.
 */
@Injectable()
export class HuntingService {
  constructor(
    private readonly client: HuntingClient,
    private readonly tenants: TenantsService,
    private readonly capabilities: TenantCapabilitiesService,
    private readonly auditLog: AuditLogService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async hunt(principal: Principal, tenantId: string, input: HuntingQueryDto, context: AuditContext): Promise<HuntingResponse> {
    const tenant = await this.tenants.findVisible(principal, tenantId);
    await this.assertHuntable(tenant);
    const audit = (data: Record<string, unknown>) =>
      this.auditLog.record({
        event: 'hunting.query',
        actor: context.actor,
        tenantId: tenant.id,
        subject: `tenant:${tenant.id}`,
        requestId: context.requestId,
        data: { query: input.query, timespan: input.timespan ?? null, ...data },
      });
    let result: HuntingResult;
    try {
      result = await this.client.run(this.tenants.credentialsOf(tenant), input.query, input.timespan);
    } catch (error) {
      if (!(error instanceof MicrosoftApiError)) throw error;
      await audit({ outcome: 'refused', status: error.status, code: error.code ?? null, error: error.message.slice(0, 1000) });
      throw problemOf(error);
    }
    const max = this.config.hunting.onDemandMaxRows;
    await audit({ outcome: 'succeeded', rowCount: result.results.length, returned: Math.min(max, result.results.length) });
    return {
      tenantId: tenant.id,
      schema: result.schema,
      rows: result.results.slice(0, max),
      rowCount: result.results.length,
      truncated: result.results.length > max,
    };
  }

  private async assertHuntable(tenant: TenantEntity): Promise<void> {
    if (!tenant.enabled) throw new Problem(409, 'tenant-disabled', 'Tenant disabled', `Tenant ${tenant.id} is disabled; enable it to hunt in it.`);
    const status = await this.capabilities.statusOf(tenant.id, ADVANCED_HUNTING.name);
    if (status && UNUSABLE.has(status.status)) throw unavailable(status.status, status.detail);
  }
}

function unavailable(status: string, detail: string | null): Problem {
  const name = ADVANCED_HUNTING.name;
  return new Problem(
    409,
    'capability-unavailable',
    'Capability unavailable',
    `Hunting needs ${name} (${ADVANCED_HUNTING.permissions.join(' or ')}), which is ${status}${detail ? `: ${detail}` : ''} for this tenant.`,
    { capability: name, capabilityStatus: status },
  );
}

function problemOf(error: MicrosoftApiError): Problem {
  switch (error.kind) {
    case 'bad-request':
      return new Problem(400, 'hunting-query-invalid', 'Hunting query invalid', `Microsoft could not run the query: ${error.message}`, {
        microsoftCode: error.code ?? null,
      });
    case 'throttled': {
      const retryAfter = Math.max(1, error.retryAfterSeconds ?? 60);
      return new Problem(
        429,
        'hunting-throttled',
        'Hunting quota reached',
        `${error.message}; try again in ${retryAfter} s.`,
        { retryAfterSeconds: retryAfter },
        { 'Retry-After': String(retryAfter) },
      );
    }
    case 'forbidden':
    case 'unlicensed':
      return unavailable(error.kind, error.message);
    default:
      return new Problem(502, 'microsoft-unavailable', 'Microsoft unavailable', `Microsoft did not run the query: ${error.message}`);
  }
}
