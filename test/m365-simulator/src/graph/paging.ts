/**
 * Collection answers: `$filter`, `$orderby`, `$top`, `$skip`, `$select`, `$count` and paging
 * through `@odata.nextLink` (microsoft-notes §3).
 *
 * The nextLink is absolute, on the Graph host that answered, and carries an opaque `$skiptoken`.
 * The token is a keyset position (last sort key + id), so a client that follows nextLinks sees every
 * item exactly once even while new items arrive; clients must not build it themselves.
 */
import type { RawRecord, SimClock, SimRequest, SimResponse } from '../types';
import { badQuery, type ErrorFamily } from './errors';
import { parseFilter, ODataFilterError, type FilterNode } from './odata';
import { checkFilter, evaluateFilter, parseTimestamp, type FilterSpec } from './odata-eval';

export interface TopPolicy {
  default: number;
  max: number;
  /** `error` ⇒ 400 above max; `clamp` ⇒ silently use max. */
  overflow: 'error' | 'clamp';
}

export interface ListSpec {
  family: ErrorFamily;
  /** `$filter` support; undefined ⇒ the endpoint refuses `$filter`. */
  filter?: FilterSpec;
  /** Properties accepted in `$orderby`. */
  orderable: string[];
  defaultOrder: { property: string; desc: boolean };
  top: TopPolicy;
  /** Legacy `$skip`: undefined ⇒ refused; otherwise the `$top + $skip` ceiling (microsoft-notes M8). */
  skip?: { maxTopPlusSkip: number };
  /** Enum properties sort by member order (as OData does), not alphabetically. */
  enumOrder?: Record<string, string[]>;
  /** `@odata.context`, relative to `/v1.0/$metadata#`, e.g. `security/alerts_v2`. */
  context: string;
  /** Runs after the filter: a hook for endpoint-specific failures (microsoft-notes M9). */
  beforePage?: (filter: FilterNode | undefined) => void;
  /** Transforms each item of the page (e.g. `$expand`). */
  expand?: (item: RawRecord) => RawRecord;
}

interface SkipToken {
  k: string | number | null;
  id: string;
}

function encodeToken(token: SkipToken): string {
  return Buffer.from(JSON.stringify({ v: 1, ...token })).toString('base64url');
}

function decodeToken(raw: string): SkipToken | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { v?: number } & SkipToken;
    if (parsed.v !== 1 || typeof parsed.id !== 'string') return undefined;
    return { k: parsed.k, id: parsed.id };
  } catch {
    return undefined;
  }
}

/** Graph query options are case-insensitive and the `$` is optional on v1.0 for some workloads. */
export function queryOption(req: SimRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of req.query) {
    const k = key.toLowerCase();
    if (k === `$${wanted}` || k === wanted) return value;
  }
  return undefined;
}

function sortKey(item: RawRecord, property: string, members?: string[]): string | number | null {
  const value = item[property];
  if (value === undefined || value === null) return null;
  if (members && typeof value === 'string') {
    const index = members.indexOf(value);
    return index === -1 ? members.length : index;
  }
  if (typeof value === 'number') return value;
  const text = String(value);
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(text) ? parseTimestamp(text) : NaN;
  return Number.isNaN(ms) ? text.toLowerCase() : ms;
}

function compareKeys(a: string | number | null, b: string | number | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

/** Ids break ties in the sort; plain code-unit order, so the keyset is stable across locales. */
function compareIds(a: unknown, b: unknown): number {
  const x = String(a);
  const y = String(b);
  return x === y ? 0 : x < y ? -1 : 1;
}

function parseInteger(clock: SimClock, req: SimRequest, family: ErrorFamily, name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw.trim())) {
    throw badQuery(clock, req, family, `Invalid value '${raw}' for query option '$${name}'.`);
  }
  return Number(raw);
}

export function parseFilterParam(clock: SimClock, req: SimRequest, family: ErrorFamily, spec?: FilterSpec): FilterNode | undefined {
  const raw = queryOption(req, 'filter');
  if (raw === undefined) return undefined;
  if (!spec) {
    throw badQuery(clock, req, family, "Query option 'Filter' is not allowed for this resource.", 'unsupported');
  }
  try {
    const node = parseFilter(raw);
    checkFilter(node, spec);
    return node;
  } catch (err) {
    if (err instanceof ODataFilterError) {
      const message = err.kind === 'syntax' ? `Invalid filter clause: ${err.message}` : err.message;
      throw badQuery(clock, req, family, message, err.kind);
    }
    throw err;
  }
}

/** Applies `$select` to one object; unknown properties are left out, as Graph does for most types. */
export function applySelect(item: RawRecord, select: string | undefined): RawRecord {
  if (!select) return item;
  const wanted = select
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const out: RawRecord = {};
  if (item['@odata.type'] !== undefined) out['@odata.type'] = item['@odata.type'];
  for (const name of wanted) {
    const key = Object.keys(item).find((k) => k.toLowerCase() === name.toLowerCase());
    if (key !== undefined) out[key] = item[key];
  }
  return out;
}

/** Builds a list answer from all the items the caller may see (already shaped for output). */
export function listResponse(clock: SimClock, req: SimRequest, items: RawRecord[], spec: ListSpec): SimResponse {
  const { family } = spec;
  const filter = parseFilterParam(clock, req, family, spec.filter);

  const top = parseInteger(clock, req, family, 'top', queryOption(req, 'top'));
  if (top !== undefined && top > spec.top.max && spec.top.overflow === 'error') {
    throw badQuery(
      clock,
      req,
      family,
      family === 'security'
        ? `The limit of '${spec.top.max}' for Top query has been exceeded. The value from the incoming request is '${top}'.`
        : `Invalid page size specified: '${top}'. Must be between 1 and ${spec.top.max} inclusive.`,
    );
  }
  if (top === 0 && family !== 'security') {
    throw badQuery(clock, req, family, `Invalid page size specified: '0'. Must be between 1 and ${spec.top.max} inclusive.`);
  }
  const pageSize = Math.min(top ?? spec.top.default, spec.top.max);

  const skipRaw = queryOption(req, 'skip');
  let skip = 0;
  if (skipRaw !== undefined) {
    if (!spec.skip) throw badQuery(clock, req, family, "Query option 'Skip' is not allowed for this resource.", 'unsupported');
    skip = parseInteger(clock, req, family, 'skip', skipRaw) ?? 0;
    // Legacy security paging: $top + $skip may not exceed 6000 (microsoft-notes M8, elastic/integrations#20234).
    if ((top ?? spec.top.default) + skip > spec.skip.maxTopPlusSkip) {
      throw badQuery(
        clock,
        req,
        family,
        `The sum of $top and $skip cannot exceed ${spec.skip.maxTopPlusSkip}. Use @odata.nextLink to page through more results.`,
      );
    }
  }

  const order = parseOrderBy(clock, req, spec);
  let matched = filter ? items.filter((item) => evaluateFilter(filter, item)) : items;
  spec.beforePage?.(filter);

  const direction = order.desc ? -1 : 1;
  const members = spec.enumOrder?.[order.property];
  const keyOf = (item: RawRecord) => sortKey(item, order.property, members);
  matched = [...matched].sort((a, b) => direction * compareKeys(keyOf(a), keyOf(b)) || direction * compareIds(a.id, b.id));

  const tokenRaw = queryOption(req, 'skiptoken');
  let start = skip;
  if (tokenRaw !== undefined) {
    const token = decodeToken(tokenRaw);
    if (!token) throw badQuery(clock, req, family, 'The $skiptoken is invalid or has expired.');
    const after = matched.findIndex(
      (item) => direction * compareKeys(keyOf(item), token.k) > 0 || (compareKeys(keyOf(item), token.k) === 0 && direction * compareIds(item.id, token.id) > 0),
    );
    start = after === -1 ? matched.length : after;
  }

  const page = matched.slice(start, start + pageSize);
  const body: RawRecord = { '@odata.context': `${req.baseUrl}/v1.0/$metadata#${spec.context}` };
  if (/^true$/i.test(queryOption(req, 'count') ?? '')) body['@odata.count'] = matched.length;
  if (start + pageSize < matched.length && page.length > 0) {
    const last = page[page.length - 1];
    body['@odata.nextLink'] = nextLink(req, encodeToken({ k: keyOf(last), id: String(last.id) }));
  }
  const select = queryOption(req, 'select');
  body.value = page.map((item) => applySelect(spec.expand ? spec.expand(item) : item, select));
  return { status: 200, headers: { 'content-type': 'application/json' }, body };
}

function parseOrderBy(clock: SimClock, req: SimRequest, spec: ListSpec): { property: string; desc: boolean } {
  const raw = queryOption(req, 'orderby');
  if (raw === undefined) return spec.defaultOrder;
  const match = /^\s*([\w/]+)(?:\s+(asc|desc))?\s*$/i.exec(raw);
  const property = match ? spec.orderable.find((p) => p.toLowerCase() === match[1].toLowerCase()) : undefined;
  if (!match || !property) {
    throw badQuery(clock, req, spec.family, `Unsupported or invalid $orderby clause '${raw}'.`, 'unsupported');
  }
  return { property, desc: (match[2] ?? 'asc').toLowerCase() === 'desc' };
}

/** The same request with `$skip` dropped and a fresh `$skiptoken`, on the host that answered. */
function nextLink(req: SimRequest, token: string): string {
  const parts: string[] = [];
  for (const [key, value] of req.query) {
    const k = key.toLowerCase().replace(/^\$/, '');
    if (k === 'skip' || k === 'skiptoken') continue;
    parts.push(`${key}=${encodeURIComponent(value)}`);
  }
  parts.push(`$skiptoken=${token}`);
  return `${req.baseUrl}${req.path}?${parts.join('&')}`;
}
