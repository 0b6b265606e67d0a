import { Injectable } from '@nestjs/common';
import type { Principal } from '../../access/principal';
import { decodeCursor, Page, toPage } from '../../common/paging';
import { Problem } from '../../common/problem';
import { MicrosoftApiError } from '../../microsoft';
import { TenantCapabilitiesService } from '../../tenants/tenant-capabilities.service';
import { TenantsService } from '../../tenants/tenants.service';
import { odataString } from './defender-client';
import type { IndicatorQueryDto, IndicatorResponse } from './dto/indicator.dto';
import { IndicatorClient, type DefenderIndicator } from './indicator-client';
import { isExpired } from './indicator-values';

const UNUSABLE = new Set(['unlicensed', 'forbidden']);

function toResponse(i: DefenderIndicator, nowMs: number): IndicatorResponse {
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    id: String(i.id),
    type: i.indicatorType,
    value: i.indicatorValue,
    action: i.action,
    severity: text(i.severity),
    title: text(i.title),
    description: text(i.description),
    expiresAt: text(i.expirationTime),
    expired: isExpired(i.expirationTime, nowMs),
    generateAlert: i.generateAlert === true,
    createdBy: text(i.createdBy),
    createdAt: text(i.creationTimeDateTimeUtc),
    updatedAt: text(i.lastUpdateTime),
  };
}

/** Defender's numeric ids, in order (an id that is not a number sorts last, by text). */
const sortKey = (id: string): [number, string] => [/^\d+$/.test(id) ? Number(id) : Number.MAX_SAFE_INTEGER, id];

/**
 * `GET /v1/tenants/{id}/indicators`: read live from Defender (microsoft-notes M45) — `type` and `action`
 * are sent as `$filter`, `expired` is decided from `expirationTime` (microsoft-notes M46) — and keyset-paged
 * by Defender's id.
 */
@Injectable()
export class IndicatorsService {
  constructor(
    private readonly tenants: TenantsService,
    private readonly capabilities: TenantCapabilitiesService,
    private readonly client: IndicatorClient,
  ) {}

  async list(principal: Principal, tenantId: string, query: IndicatorQueryDto): Promise<Page<IndicatorResponse>> {
    const tenant = await this.tenants.findVisible(principal, tenantId);
    if (!tenant.enabled) throw new Problem(409, 'tenant-disabled', 'Tenant disabled', `Tenant ${tenant.id} is disabled; enable it to read from it.`);
    const status = await this.capabilities.statusOf(tenant.id, 'indicators');
    if (status && UNUSABLE.has(status.status)) throw unavailable(status.status, status.detail);
    const after = decodeCursor(query.cursor, 2) as [number, string] | undefined;
    const filters = [
      ...(query.type ? [`indicatorType eq ${odataString(query.type)}`] : []),
      ...(query.action ? [`action eq ${odataString(query.action)}`] : []),
    ];
    let listed: DefenderIndicator[];
    try {
      listed = await this.client.list(tenant.id, filters.length ? filters.join(' and ') : undefined);
    } catch (error) {
      throw error instanceof MicrosoftApiError ? problemOf(error) : error;
    }
    const now = Date.now();
    const rows = listed
      .filter((i) => query.expired === undefined || isExpired(i.expirationTime, now) === (query.expired === 'true'))
      .map((i) => ({ i, key: sortKey(String(i.id)) }))
      .sort((a, b) => a.key[0] - b.key[0] || a.key[1].localeCompare(b.key[1]))
      .filter(({ key }) => !after || key[0] > after[0] || (key[0] === after[0] && key[1] > after[1]));
    return toPage(
      rows.slice(0, query.limit + 1),
      query.limit,
      (r) => r.key,
      (r) => toResponse(r.i, now),
    );
  }
}

function unavailable(status: string, detail: string | null): Problem {
  return new Problem(
    409,
    'capability-unavailable',
    'Capability unavailable',
    `Indicators need Ti.ReadWrite.All (or Ti.ReadWrite), which is ${status}${detail ? `: ${detail}` : ''} for this tenant.`,
    { capability: 'indicators', capabilityStatus: status },
  );
}

function problemOf(error: MicrosoftApiError): Problem {
  switch (error.kind) {
    case 'throttled': {
      const retryAfter = Math.max(1, error.retryAfterSeconds ?? 60);
      return new Problem(
        429,
        'defender-throttled',
        'Defender throttled',
        `${error.message}; try again in ${retryAfter} s.`,
        { retryAfterSeconds: retryAfter },
        {
          'Retry-After': String(retryAfter),
        },
      );
    }
    case 'forbidden':
    case 'unlicensed':
      return unavailable(error.kind, `${error.code ?? error.status}: ${error.message}`);
    default:
      return new Problem(
        502,
        'microsoft-unavailable',
        'Microsoft unavailable',
        `Defender did not list the indicators: ${error.code ?? error.status}: ${error.message}`,
        {
          microsoftCode: error.code ?? null,
        },
      );
  }
}
