import { Injectable } from '@nestjs/common';
import { DefenderClient, odataString } from './defender-client';
import { indicatorKey } from './indicator-values';

/** An Indicator as Defender returns it (microsoft-notes M44). */
export interface DefenderIndicator {
  id: string | number;
  indicatorValue: string;
  indicatorType: string;
  action: string;
  severity?: string | null;
  title?: string | null;
  description?: string | null;
  expirationTime?: string | null;
  generateAlert?: boolean | null;
  createdBy?: string | null;
  creationTimeDateTimeUtc?: string | null;
  lastUpdateTime?: string | null;
  [key: string]: unknown;
}

export interface ImportResult {
  id: string | number | null;
  indicator: string | null;
  isFailed: boolean;
  failureReason: string | null;
}

/** The rate-limit buckets (DefenderPacer): one per documented indicator API (microsoft-notes M45). */
export const INDICATOR_APIS = { submit: 'indicators', import: 'indicators/import', list: 'indicators (list)', remove: 'indicators/{id}' } as const;

/**
 * Defender's custom indicator APIs of one tenant (microsoft-notes M44, M45), through DefenderClient (its
 * token, host and pacer). The writes are sent on a slot the caller booked (`booked`); reads wait for theirs.
 */
@Injectable()
export class IndicatorClient {
  constructor(private readonly defender: DefenderClient) {}

  /** Every indicator the app is exposed to (all of them with Ti.ReadWrite.All, microsoft-notes M47), following `@odata.nextLink`. */
  async list(tenantId: string, filter?: string): Promise<DefenderIndicator[]> {
    const out: DefenderIndicator[] = [];
    let url = '/api/indicators';
    let query: Record<string, string> | undefined = { $top: '10000', ...(filter ? { $filter: filter } : {}) };
    for (;;) {
      const { body } = await this.defender.call<{ value?: DefenderIndicator[]; '@odata.nextLink'?: string }>(tenantId, INDICATOR_APIS.list, { url, query });
      out.push(...(body.value ?? []));
      if (!body['@odata.nextLink']) return out;
      url = body['@odata.nextLink'];
      query = undefined;
    }
  }

  /** The indicator Defender holds for (type, value), if any: the key its upsert uses (microsoft-notes M44). */
  async find(tenantId: string, type: string, value: string): Promise<DefenderIndicator | undefined> {
    const listed = await this.list(tenantId, `indicatorType eq ${odataString(type)} and indicatorValue eq ${odataString(value)}`);
    const key = indicatorKey(type, value);
    return listed.find((i) => indicatorKey(i.indicatorType, i.indicatorValue) === key);
  }

  submit(tenantId: string, body: Record<string, unknown>, clientRequestId: string): Promise<{ body: DefenderIndicator; requestId?: string }> {
    return this.defender.call<DefenderIndicator>(tenantId, INDICATOR_APIS.submit, { method: 'POST', url: '/api/indicators', body, clientRequestId }, true);
  }

  async import(tenantId: string, items: Array<Record<string, unknown>>, clientRequestId: string): Promise<{ results: ImportResult[]; requestId?: string }> {
    const { body, requestId } = await this.defender.call<{ value?: ImportResult[] }>(
      tenantId,
      INDICATOR_APIS.import,
      { method: 'POST', url: '/api/indicators/import', body: { Indicators: items }, clientRequestId },
      true,
    );
    return { results: body.value ?? [], requestId };
  }

  async remove(tenantId: string, id: string, clientRequestId: string): Promise<{ requestId?: string }> {
    const { requestId } = await this.defender.call(
      tenantId,
      INDICATOR_APIS.remove,
      { method: 'DELETE', url: `/api/indicators/${encodeURIComponent(id)}`, clientRequestId },
      true,
    );
    return { requestId };
  }
}
