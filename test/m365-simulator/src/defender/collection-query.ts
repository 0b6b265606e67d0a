import type { SimRequest } from '../types';
import { odataError } from './errors';
import { compileFilter, FilterSyntaxError, type FilterOptions, type Row } from './odata-filter';

/** Both collections document "`$top` with max value of 10,000" and a maximum page size of 10,000 (microsoft-notes §5.2). */
export const MAX_PAGE_SIZE = 10_000;

export interface CollectionQuery {
  filter: (row: Row) => boolean;
  top?: number;
  skip: number;
}

function nonNegativeInteger(req: SimRequest, name: string, raw: string | null): number | undefined {
  if (raw === null) return undefined;
  if (!/^\d+$/.test(raw.trim())) throw odataError(req, `${name} must be a non-negative integer, got '${raw}'`);
  return Number(raw.trim());
}

/** Reads `$filter`, `$top` and `$skip`; any problem is a 400 `ODataError` (microsoft-notes §5.5). */
export function parseCollectionQuery(req: SimRequest, options: FilterOptions): CollectionQuery {
  const rawFilter = req.query.get('$filter');
  let filter: (row: Row) => boolean = () => true;
  if (rawFilter !== null) {
    try {
      filter = compileFilter(rawFilter, options);
    } catch (err) {
      if (err instanceof FilterSyntaxError) throw odataError(req, err.message);
      throw err;
    }
  }
  const top = nonNegativeInteger(req, '$top', req.query.get('$top'));
  if (top !== undefined && top > MAX_PAGE_SIZE) {
    throw odataError(req, `the limit of '${MAX_PAGE_SIZE}' for $top has been exceeded`);
  }
  const skip = nonNegativeInteger(req, '$skip', req.query.get('$skip')) ?? 0;
  return { filter, top, skip };
}

/**
 * One page of an OData collection. Pages hold `$top` rows (10,000 without it); when rows remain, the
 * page carries `@odata.nextLink`, the same URL with `$skip` moved on (microsoft-notes §5.2: follow
 * `@odata.nextLink`). Whether the real service also pages when `$top` is given is not documented;
 * the sim does, so a client that follows nextLink reads everything either way.
 */
export function collectionPage(req: SimRequest, entitySet: string, rows: unknown[], query: CollectionQuery): Record<string, unknown> {
  const pageSize = query.top ?? MAX_PAGE_SIZE;
  const page = rows.slice(query.skip, query.skip + pageSize);
  const body: Record<string, unknown> = {
    '@odata.context': `${req.baseUrl}/api/$metadata#${entitySet}`,
    value: page,
  };
  if (query.skip + pageSize < rows.length) {
    const next = new URLSearchParams(req.query);
    next.set('$skip', String(query.skip + pageSize));
    body['@odata.nextLink'] = `${req.baseUrl}${req.path}?${next.toString()}`;
  }
  return body;
}
