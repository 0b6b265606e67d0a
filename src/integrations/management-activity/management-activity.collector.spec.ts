import { ConsoleLogger, Logger } from '@nestjs/common';
import type { LedgerStatus, ListingState } from '../../collection/collection.entity';
import type { CollectContext, CollectSink, NormalizedEvent } from '../../collection/collector';
import type { CollectorRegistry } from '../../collection/collector-registry';
import type { AppConfig } from '../../config/config';
import { MicrosoftApiError, type MicrosoftHttp, type MicrosoftRequest } from '../../microsoft';
import type { TenantEntity } from '../../tenants/tenant.entity';
import { ManagementActivityCollector } from './management-activity.collector';

/**
 * How the collector stores a blob while it streams in (the HTTP side is scripted; the paging,
 * windows and storage against the simulator and a database are in test/e2e/collection*.e2e-spec.ts):
 * in batches of at most 1,000 records, the ledger mark with the last batch only, and a blob that
 * breaks off mid-way left unhandled, to be fetched again.
 */

const NOW = new Date('2026-03-04T10:00:00Z');
const BLOB_URI = 'https://manage.example/api/v1.0/t/activity/feed/audit/blob-1';

const record = (i: number) => ({
  Id: `rec-${i}`,
  RecordType: 2,
  CreationTime: '2026-03-04T09:10:00',
  Operation: 'MailItemsAccessed',
  Workload: 'Exchange',
  UserId: `u${i}@contoso.example`,
  ClientIP: '192.0.2.7:443',
});

/** The blob's bytes in small chunks, optionally breaking off after `breakAfter` bytes. */
function body(text: string, breakAfter?: number): AsyncIterable<Buffer> {
  const bytes = Buffer.from(text, 'utf8');
  return (async function* () {
    const end = breakAfter ?? bytes.length;
    for (let i = 0; i < end; i += 4096) yield bytes.subarray(i, Math.min(i + 4096, end));
    if (breakAfter !== undefined)
      throw new MicrosoftApiError({
        kind: 'network',
        resource: 'manage',
        status: 200,
        message: 'the response body broke off: aborted',
        method: 'GET',
        url: BLOB_URI,
        attempts: 1,
      });
  })();
}

function scriptedHttp(blob: () => AsyncIterable<Buffer>) {
  const closed: string[] = [];
  const http = {
    request: async (req: MicrosoftRequest) => {
      if (req.url.endsWith('/subscriptions/list'))
        return { status: 200, headers: { date: NOW.toUTCString() }, body: [{ contentType: 'Audit.Exchange', status: 'enabled' }] };
      if (req.url.endsWith('/subscriptions/content')) {
        return {
          status: 200,
          headers: {},
          body: [{ contentType: 'Audit.Exchange', contentId: 'blob-1', contentUri: BLOB_URI, contentCreated: '2026-03-04T09:20:00.000Z' }],
        };
      }
      throw new Error(`unexpected request ${req.url}`);
    },
    stream: async (req: MicrosoftRequest) => {
      expect(req.url).toBe(BLOB_URI);
      expect(req.query).toEqual({ PublisherIdentifier: 'tid' });
      return { status: 200, headers: {}, body: blob(), close: () => closed.push(req.url) };
    },
  };
  return { http: http as unknown as MicrosoftHttp, closed };
}

interface Recorded {
  batches: Array<{ kind: 'records' | 'unit'; size: number; unitId?: string }>;
  stored: NormalizedEvent[];
  handled: Set<string>;
  failed: string[];
  advancedTo: Date[];
  ledger: Map<string, LedgerStatus>;
  listings: Array<ListingState | null>;
}

function recordingSink(): { sink: CollectSink; seen: Recorded } {
  const seen: Recorded = { batches: [], stored: [], handled: new Set(), failed: [], advancedTo: [], ledger: new Map(), listings: [] };
  const store = (records: NormalizedEvent[]) => {
    seen.stored.push(...records);
    return Promise.resolve({ inserted: records.length, duplicates: 0 });
  };
  const sink: CollectSink = {
    handled: async (ids) => new Set(ids.filter((id) => seen.handled.has(id))),
    storeUnit: async ({ unitId, records }) => {
      seen.batches.push({ kind: 'unit', size: records.length, unitId });
      seen.handled.add(unitId);
      seen.ledger.set(unitId, 'done');
      return store(records);
    },
    listed: async (units) => {
      for (const u of units) if (!seen.ledger.has(u.unitId)) seen.ledger.set(u.unitId, 'listed');
    },
    accountFor: async (ids) => {
      const out: Record<LedgerStatus | 'missing', string[]> = { listed: [], done: [], failed: [], gap: [], missing: [] };
      for (const id of ids) out[seen.ledger.get(id) ?? 'missing'].push(id);
      return out;
    },
    listedSince: async () => [],
    listing: async (state) => {
      seen.listings.push(state);
    },
    storeRecords: async (records) => {
      seen.batches.push({ kind: 'records', size: records.length });
      return store(records);
    },
    storeObjects: async () => ({ inserted: 0, updated: 0, unchanged: 0 }),
    unitFailed: async ({ unitId, error }) => {
      seen.failed.push(error);
      seen.ledger.set(unitId, 'failed');
      return false;
    },
    gap: async () => undefined,
    advance: async (to) => {
      seen.advancedTo.push(to);
    },
    subscription: async () => undefined,
    window: () => undefined,
  } as CollectSink;
  return { sink, seen };
}

function collector(http: MicrosoftHttp): ManagementActivityCollector {
  const config = { collection: { overlapMinutes: 60, initialLookbackHours: 2 } } as unknown as AppConfig;
  return new ManagementActivityCollector(http, { register: () => undefined } as unknown as CollectorRegistry, config);
}

const ctx: CollectContext = {
  tenant: { id: 'tenant-row' } as TenantEntity,
  credentials: { tenantId: 'tid', clientId: 'cid', cloud: 'global', credential: { type: 'secret', secret: 's' } },
  stream: 'Audit.Exchange',
  cursor: new Date(NOW.getTime() - 30 * 60_000),
  listing: null,
  concurrency: 2,
};

describe('ManagementActivityCollector, storing a blob as it streams in', () => {
  beforeAll(() => Logger.overrideLogger(false)); // failures are expected here; their warnings are noise
  afterAll(() => Logger.overrideLogger(new ConsoleLogger()));

  it('stores a large blob in batches of 1,000 and marks it handled with the last one only', async () => {
    const text = JSON.stringify(
      Array.from({ length: 2500 }, (_, i) => record(i)),
      null,
      1,
    );
    const { http, closed } = scriptedHttp(() => body(text));
    const { sink, seen } = recordingSink();
    await collector(http).run(ctx, sink);
    expect(seen.batches).toEqual([
      { kind: 'records', size: 1000 },
      { kind: 'records', size: 1000 },
      { kind: 'unit', size: 500, unitId: 'blob-1' },
    ]);
    expect(seen.stored.map((e) => e.recordId)).toEqual(Array.from({ length: 2500 }, (_, i) => `rec-${i}`));
    expect(seen.stored[7]).toMatchObject({
      operation: 'MailItemsAccessed',
      userId: 'u7@contoso.example',
      clientIp: '192.0.2.7',
      occurredAt: new Date('2026-03-04T09:10:00Z'),
    });
    expect(JSON.parse(seen.stored[7].raw)).toEqual(record(7)); // the record's text as delivered
    expect(closed).toEqual([BLOB_URI]);
    expect(seen.advancedTo.length).toBeGreaterThan(0); // every window complete
  });

  it('also cuts a batch at 8 MB, for blobs of large records', async () => {
    const big = (i: number) => ({ ...record(i), Padding: 'x'.repeat(20_000) });
    const text = JSON.stringify(Array.from({ length: 600 }, (_, i) => big(i)));
    const { http } = scriptedHttp(() => body(text));
    const { sink, seen } = recordingSink();
    await collector(http).run(ctx, sink);
    const perRecord = JSON.stringify(big(0)).length;
    const firstBatch = Math.ceil((8 * 1024 * 1024) / perRecord);
    expect(seen.batches).toEqual([
      { kind: 'records', size: firstBatch },
      { kind: 'unit', size: 600 - firstBatch, unitId: 'blob-1' },
    ]);
  });

  it('stores a blob that fits in one batch with its ledger mark in one step', async () => {
    const { http } = scriptedHttp(() => body(JSON.stringify([record(1), 'not a record', record(2)])));
    const { sink, seen } = recordingSink();
    await collector(http).run(ctx, sink);
    expect(seen.batches).toEqual([{ kind: 'unit', size: 2, unitId: 'blob-1' }]);
  });

  it('leaves a blob that breaks off mid-way unhandled, keeps the cursor, and reports the failure for a retry', async () => {
    const text = JSON.stringify(Array.from({ length: 2500 }, (_, i) => record(i)));
    const { http, closed } = scriptedHttp(() => body(text, Math.floor(text.length * 0.6)));
    const { sink, seen } = recordingSink();
    await expect(collector(http).run(ctx, sink)).rejects.toThrow('(1 failed, 0 not fetched); they are retried on the next run');
    expect(seen.batches).toEqual([{ kind: 'records', size: 1000 }]); // what came before the break is stored…
    expect(seen.handled.size).toBe(0); // …but the blob is not handled: the next run fetches it again
    expect(seen.failed).toEqual([expect.stringContaining('broke off')]);
    expect(seen.advancedTo).toEqual([]);
    expect(closed).toEqual([BLOB_URI]);
  });

  it.each([
    ['an object', '{"error":"not an array"}', 'is not a JSON array of records'],
    ['a truncated array', '[{"Id":"a"},{"Id":', 'ends early'],
    ['a record that is not JSON', '[{"Id":"a"},{"Id":x}]', 'holds a record that is not valid JSON'],
  ])('fails a blob that is %s, naming the content id', async (_what, text, message) => {
    const { http } = scriptedHttp(() => body(text));
    const { sink, seen } = recordingSink();
    await expect(collector(http).run(ctx, sink)).rejects.toThrow('failed');
    expect(seen.failed).toEqual([expect.stringContaining(message)]);
    expect(seen.failed[0]).toContain('blob-1');
    expect(seen.handled.size).toBe(0);
  });
});
