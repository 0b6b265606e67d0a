import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { ListingState } from '../../collection/collection.entity';
import type { CollectContext, CollectSink, Collector, NormalizedEvent, StoreOutcome } from '../../collection/collector';
import { CollectorRegistry } from '../../collection/collector-registry';
import { Inject } from '@nestjs/common';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { JsonArrayStreamError, jsonArrayElementBytes } from '../../common/json-array-stream';
import { MicrosoftApiError, MicrosoftHttp, type MicrosoftResponse } from '../../microsoft';
import { CONTENT_TYPES } from './management-activity.capabilities';
import { normalizeRecord } from './normalize';
import { formatApiTime, LOOKBACK_MARGIN_MS, MAX_LOOKBACK_MS, planWindows } from './windows';

export const MANAGEMENT_ACTIVITY_SOURCE = 'management-activity';

/** One entry of `/subscriptions/content` (microsoft-notes §2.2). */
interface ContentBlob {
  contentType: string;
  contentId: string;
  contentUri: string;
  contentCreated: string;
  contentExpiration?: string;
}

type BlobOutcome = 'stored' | 'gap' | 'retry';

/**
 * The last run's unfinished listing, when this run can finish it: it stopped at a page, the cursor has not
 * moved since, and its window is still within what the API lists.
 */
function resumable(ctx: CollectContext, now: Date): ListingState | null {
  const saved = ctx.listing;
  if (!saved?.nextPage) return null;
  if ((saved.cursor ?? null) !== (ctx.cursor?.toISOString() ?? null)) return null;
  if (Date.parse(saved.windowStart) < now.getTime() - MAX_LOOKBACK_MS + LOOKBACK_MARGIN_MS) return null;
  return saved;
}

/**
 * Records stored per transaction while a blob streams in: one multi-row statement's worth. With the
 * byte bound, caps what a blob in hand holds (a few MB), whatever the blob's size.
 */
const RECORDS_PER_TRANSACTION = 1000;
const BYTES_PER_TRANSACTION = 8 * 1024 * 1024;

/** Codes that mean "subscription missing or disabled: /start it again" (microsoft-notes §2.6, M5). */
const RESUBSCRIBE = new Set(['AF20022', 'AF20023']);

/** A saved NextPageUri the API refuses (invalid nextPage, or its window no longer valid; microsoft-notes §2.6). */
const STALE_PAGE = new Set(['AF20031', 'AF20030', 'AF20055']);

/**
 * Collects the Office 365 Management Activity API (microsoft-notes §2) into the events store, one content
 * type per stream. Per run: check the subscription (start it when missing or disabled), read the
 * server's clock, list content in windows under 24 h and within 7 days, follow NextPageUri verbatim,
 * stream each blob not yet handled (bounded concurrency), normalize it record by record, hand it to
 * the engine in bounded batches, and move the cursor past a window only once every blob in it is
 * stored or reported as a gap.
 */
@Injectable()
export class ManagementActivityCollector implements Collector, OnModuleInit {
  readonly source = MANAGEMENT_ACTIVITY_SOURCE;
  readonly units = true;
  /** A throttled run resumes from its saved listing and cursor (microsoft-notes M58). */
  readonly resumesThrottled = true;
  readonly streams = CONTENT_TYPES.map((name) => ({ name, capability: `management-activity:${name}` }));
  private readonly logger = new Logger(ManagementActivityCollector.name);
  private readonly gates = new Map<string, Semaphore>();

  constructor(
    private readonly http: MicrosoftHttp,
    private readonly registry: CollectorRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.registry.register(this);
  }

  async run(ctx: CollectContext, sink: CollectSink): Promise<void> {
    const now = await this.ensureSubscription(ctx, sink);
    let cursor = ctx.cursor;
    const resume = resumable(ctx, now);
    if (resume) {
      // The last run stopped part-way through this window's listing: finish it from where it stopped.
      const window = { start: new Date(resume.windowStart), end: new Date(resume.windowEnd) };
      await this.collectWindow(ctx, sink, window, cursor, resume);
      cursor = window.end;
    }
    const plan = planWindows({
      now,
      cursor,
      overlapMs: this.config.collection.overlapMinutes * 60_000,
      initialLookbackMs: this.config.collection.initialLookbackHours * 3_600_000,
    });
    if (plan.lost) {
      // The API serves nothing older than 7 days: what lay between the cursor and that limit is gone.
      await sink.gap({
        reason: 'beyond-retention',
        windowStart: plan.lost.start,
        windowEnd: plan.lost.end,
        detail: 'the cursor was older than the 7 days the Management Activity API keeps content',
      });
    }
    for (const window of plan.windows) {
      ctx.signal?.throwIfAborted();
      await this.collectWindow(ctx, sink, window, cursor);
      if (!cursor || window.end > cursor) cursor = window.end;
    }
  }

  /**
   * Lists one window page by page, fetching each page's new blobs before reading the next, and keeps the
   * ledger in step: every listed blob is recorded as listed first. After each page the resume point is
   * saved, so a listing cut short (throttled, failed, the process stopped) is finished by the next run
   * from that page. The cursor moves past the window only when the ledger, read back, shows every blob
   * Microsoft listed for it stored or reported as a gap.
   */
  private async collectWindow(
    ctx: CollectContext,
    sink: CollectSink,
    window: { start: Date; end: Date },
    cursor: Date | null,
    resume?: ListingState,
  ): Promise<void> {
    sink.window(window.start, window.end);
    const startedAt = resume?.startedAt ?? new Date().toISOString();
    const listedIds = new Set(resume ? await sink.listedSince(new Date(resume.startedAt), window.start, window.end) : []);
    let pages = resume?.pages ?? 0;
    let page: string | null = resume?.nextPage ?? null; // the page being read: null is the window's first
    const state = (error: string | null): ListingState => ({
      windowStart: window.start.toISOString(),
      windowEnd: window.end.toISOString(),
      cursor: cursor?.toISOString() ?? null,
      startedAt,
      pages,
      blobs: listedIds.size,
      nextPage: page,
      error,
      at: new Date().toISOString(),
    });
    try {
      for await (const listed of this.listContent(ctx, sink, window, page)) {
        const unique = [...new Map(listed.blobs.map((b) => [b.contentId, b])).values()];
        await sink.listed(unique.map((b) => ({ unitId: b.contentId, createdAt: parseDate(b.contentCreated) })));
        for (const b of unique) listedIds.add(b.contentId);
        const handled = await sink.handled(unique.map((b) => b.contentId));
        const todo = unique.filter((b) => !handled.has(b.contentId));
        const gate = this.gateOf(ctx);
        await mapBounded(todo, ctx.concurrency, (blob) => gate.run(() => this.fetchBlob(ctx, sink, blob)));
        pages += 1;
        page = listed.next;
        if (page) await sink.listing(state(null));
      }
    } catch (error) {
      await sink.listing(state(error instanceof Error ? error.message.slice(0, 1000) : String(error)));
      this.logger.warn(
        { tenantId: ctx.tenant.id, contentType: ctx.stream, pages, blobs: listedIds.size },
        `listing of ${ctx.stream} ${window.start.toISOString()}–${window.end.toISOString()} stopped after ${pages} page(s); the next run resumes it`,
      );
      throw error;
    }
    await sink.listing(null);
    // The proof, from the database: each blob listed for the window is stored or reported as a gap.
    const account = await sink.accountFor([...listedIds]);
    const open = account.listed.length + account.missing.length + account.failed.length;
    if (open > 0) {
      throw new Error(
        `${open} of the ${listedIds.size} blobs listed for ${ctx.stream} between ${window.start.toISOString()} and ${window.end.toISOString()} are not stored yet ` +
          `(${account.failed.length} failed, ${account.listed.length + account.missing.length} not fetched); they are retried on the next run`,
      );
    }
    await sink.advance(window.end);
  }

  /**
   * Blobs in hand (streaming in, or a batch of theirs being stored) per tenant, across its content
   * types running at once: this, times one batch, bounds the memory collection needs whatever the
   * volume and the size of blobs.
   */
  private gateOf(ctx: CollectContext): Semaphore {
    let gate = this.gates.get(ctx.tenant.id);
    if (!gate) this.gates.set(ctx.tenant.id, (gate = new Semaphore(ctx.concurrency)));
    return gate;
  }

  private base(ctx: CollectContext): string {
    return `/api/v1.0/${ctx.credentials.tenantId}/activity/feed`;
  }

  /**
   * PublisherIdentifier on every call, blob GETs included (microsoft-notes M3): `CORDON_MANAGE_PUBLISHER_ID`
   * when set, else the customer tenant's own GUID (why: microsoft-notes M57).
   */
  private publisher(ctx: CollectContext) {
    return { PublisherIdentifier: this.config.collection.managePublisherId ?? ctx.credentials.tenantId };
  }

  /** Makes sure the content type's subscription is enabled; answers the server's clock (windows are judged by it). */
  private async ensureSubscription(ctx: CollectContext, sink: CollectSink): Promise<Date> {
    const listed = await this.http.request<Array<{ contentType: string; status: string }>>({
      tenant: ctx.credentials,
      resource: 'manage',
      url: `${this.base(ctx)}/subscriptions/list`,
      query: this.publisher(ctx),
    });
    const current = (Array.isArray(listed.body) ? listed.body : []).find((s) => s.contentType?.toLowerCase() === ctx.stream.toLowerCase());
    if (current?.status?.toLowerCase() === 'enabled') {
      await sink.subscription('enabled');
    } else {
      await sink.subscription(current ? 'disabled' : 'missing');
      await this.start(ctx, sink, current ? 'restarted (was disabled)' : 'started (was missing)');
    }
    return serverClock(listed);
  }

  private async start(ctx: CollectContext, sink: CollectSink, why: string): Promise<void> {
    try {
      await this.http.request({
        tenant: ctx.credentials,
        resource: 'manage',
        method: 'POST',
        url: `${this.base(ctx)}/subscriptions/start`,
        query: { contentType: ctx.stream, ...this.publisher(ctx) },
      });
    } catch (error) {
      // AF20024 "already enabled, no property change" is success (microsoft-notes §2.2, M5).
      if (!(error instanceof MicrosoftApiError && error.code === 'AF20024')) throw error;
    }
    await sink.subscription('enabled', why);
    this.logger.log({ tenantId: ctx.tenant.id, contentType: ctx.stream }, `subscription ${why}`);
  }

  /**
   * Pages of one window, following NextPageUri verbatim to the end (microsoft-notes M2), each with the
   * page after it. `from` resumes at a NextPageUri an earlier run saved; one the API no longer accepts
   * sends the listing back to the window's start.
   */
  private async *listContent(
    ctx: CollectContext,
    sink: CollectSink,
    window: { start: Date; end: Date },
    from: string | null,
  ): AsyncGenerator<{ blobs: ContentBlob[]; next: string | null }> {
    let next: string | undefined = from ?? undefined;
    let resubscribed = false;
    for (;;) {
      let response: MicrosoftResponse<ContentBlob[]>;
      try {
        response = next
          ? await this.http.request<ContentBlob[]>({ tenant: ctx.credentials, resource: 'manage', url: next, query: this.publisher(ctx) })
          : await this.http.request<ContentBlob[]>({
              tenant: ctx.credentials,
              resource: 'manage',
              url: `${this.base(ctx)}/subscriptions/content`,
              query: { contentType: ctx.stream, startTime: formatApiTime(window.start), endTime: formatApiTime(window.end), ...this.publisher(ctx) },
            });
      } catch (error) {
        if (error instanceof MicrosoftApiError && error.code && RESUBSCRIBE.has(error.code) && !resubscribed) {
          // Disabled or removed since the check (e.g. by a tenant admin): start it again and re-list.
          resubscribed = true;
          await sink.subscription(error.code === 'AF20023' ? 'disabled' : 'missing', error.code);
          await this.start(ctx, sink, `restarted after ${error.code}`);
          next = undefined;
          continue;
        }
        if (next && next === from && error instanceof MicrosoftApiError && error.code && STALE_PAGE.has(error.code)) {
          // The saved page is no longer valid: list the window again (handled blobs are skipped).
          this.logger.log({ tenantId: ctx.tenant.id, contentType: ctx.stream, code: error.code }, 'saved listing page refused; listing the window again');
          next = undefined;
          continue;
        }
        throw error;
      }
      const nextPage = response.nextPageUri ?? null;
      yield { blobs: Array.isArray(response.body) ? response.body : [], next: nextPage };
      if (!nextPage) return;
      next = nextPage;
    }
  }

  private async fetchBlob(ctx: CollectContext, sink: CollectSink, blob: ContentBlob): Promise<BlobOutcome> {
    const createdAt = parseDate(blob.contentCreated);
    try {
      await this.storeBlob(ctx, sink, blob, createdAt);
      return 'stored';
    } catch (error) {
      if (error instanceof MicrosoftApiError && error.code === 'AF20051') {
        // Expired before we fetched it (microsoft-notes §2.6): the records are gone; say so.
        await sink.gap({ reason: 'expired', unitId: blob.contentId, detail: `AF20051: content created ${blob.contentCreated} expired before it was fetched` });
        return 'gap';
      }
      // Retried inside MicrosoftHttp already: stop the listing; the runner waits Microsoft out and resumes it (microsoft-notes M58).
      if (error instanceof MicrosoftApiError && error.kind === 'throttled') throw error;
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn({ tenantId: ctx.tenant.id, contentId: blob.contentId, err: error }, 'content blob failed');
      return (await sink.unitFailed({ unitId: blob.contentId, createdAt, error: message })) ? 'gap' : 'retry';
    }
  }

  /**
   * Reads the blob as it arrives, cut into records, and stores it in batches of at most
   * RECORDS_PER_TRANSACTION records (or BYTES_PER_TRANSACTION bytes), so the memory a blob takes does
   * not grow with its size. A blob that fits in one batch is stored with its ledger entry in one
   * transaction; a larger one is stored batch by batch and marked handled with its last batch only.
   * If the run dies in between, the blob is not handled: the next run fetches it again and the
   * batches already stored are dropped as duplicates.
   *
   * While a batch fills (at the pace of the network), its records wait as bytes, off the JavaScript
   * heap; they are parsed and normalized only when the batch is stored, so the heap holds parsed
   * records only while their batch is being written (see also NormalizedRecord in normalize.ts).
   */
  private async storeBlob(ctx: CollectContext, sink: CollectSink, blob: ContentBlob, createdAt: Date | null): Promise<void> {
    const response = await this.http.stream({ tenant: ctx.credentials, resource: 'manage', url: blob.contentUri, query: this.publisher(ctx) });
    try {
      const fallback = createdAt ?? new Date();
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const earlier: StoreOutcome = { inserted: 0, duplicates: 0 };
      for await (const element of jsonArrayElementBytes(response.body)) {
        pending.push(element);
        pendingBytes += element.length;
        if (pending.length >= RECORDS_PER_TRANSACTION || pendingBytes >= BYTES_PER_TRANSACTION) {
          const stored = await sink.storeRecords(normalizeAll(pending, ctx.stream, fallback, blob.contentId));
          earlier.inserted += stored.inserted;
          earlier.duplicates += stored.duplicates;
          pending = [];
          pendingBytes = 0;
        }
      }
      await sink.storeUnit({ unitId: blob.contentId, createdAt, records: normalizeAll(pending, ctx.stream, fallback, blob.contentId), earlier });
    } catch (error) {
      if (error instanceof JsonArrayStreamError) throw new Error(`content ${blob.contentId} is not a JSON array of records: ${error.message}`);
      throw error;
    } finally {
      response.close();
    }
  }
}

/** A batch's records, parsed and normalized; elements that are not objects are not records and are left out. */
function normalizeAll(elements: Buffer[], contentType: string, fallback: Date, contentId: string): NormalizedEvent[] {
  const records: NormalizedEvent[] = [];
  for (const element of elements) {
    const text = element.toString('utf8');
    const record = parseRecord(text, contentId);
    if (record) records.push(normalizeRecord(record, contentType, fallback, text));
  }
  return records;
}

/** One element of a blob: an object answers as the record; a syntax error fails the blob (it is retried). */
function parseRecord(text: string, contentId: string): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`content ${contentId} holds a record that is not valid JSON: ${(error as Error).message}`);
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function parseDate(text: string | undefined): Date | null {
  if (!text) return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * Windows are judged against Microsoft's clock, not ours: skew makes valid-looking windows fail with
 * AF20030 (Elastic's o365audit compares with the response Date header).
 */
function serverClock(response: MicrosoftResponse): Date {
  return parseDate(response.headers.date) ?? new Date();
}

/** Runs `work` over `items` with at most `limit` in flight, in order of results. */
async function mapBounded<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed: unknown;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && failed === undefined) {
      const i = next++;
      try {
        results[i] = await work(items[i]);
      } catch (error) {
        failed ??= error;
      }
    }
  });
  await Promise.all(lanes);
  if (failed !== undefined) throw failed;
  return results;
}

/** A counting semaphore: at most `size` tasks inside `run` at once, the rest wait in order. */
class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}
