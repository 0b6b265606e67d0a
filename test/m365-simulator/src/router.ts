import type { SimHost, SimRoute } from './types';

/**
 * Route matching for `SimRoute` patterns: `/v1.0/users/:id`, `/:tenant/oauth2/v2.0/token`, and a
 * trailing `*` that captures the rest (`params['*']`). Literal segments match case-insensitively,
 * parameters are URI-decoded. When several patterns match, the one with more literal segments wins
 * (so `/common/discovery/instance` beats `/:tenant/discovery/instance`), then registration order.
 */

interface Segment {
  literal?: string;
  param?: string;
  rest?: boolean;
}

interface CompiledRoute {
  route: SimRoute;
  segments: Segment[];
  literalCount: number;
}

export type RouteMatch =
  { kind: 'found'; route: SimRoute; params: Record<string, string> } | { kind: 'method-not-allowed'; allowed: string[] } | { kind: 'not-found' };

export function splitPath(path: string): string[] {
  return path.split('/').filter((s, i, all) => s !== '' || (i > 0 && i < all.length - 1));
}

function compile(route: SimRoute): CompiledRoute {
  const segments: Segment[] = splitPath(route.pattern).map((s) => {
    if (s === '*') return { rest: true };
    if (s.startsWith(':')) return { param: s.slice(1) };
    return { literal: s.toLowerCase() };
  });
  return { route, segments, literalCount: segments.filter((s) => s.literal !== undefined).length };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function matchSegments(segments: Segment[], rawParts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    if (seg.rest) {
      params['*'] = rawParts.slice(i).map(decode).join('/');
      return params;
    }
    if (i >= rawParts.length) return undefined;
    const part = decode(rawParts[i]);
    if (seg.literal !== undefined) {
      if (part.toLowerCase() !== seg.literal) return undefined;
    } else if (seg.param) {
      if (part === '') return undefined;
      params[seg.param] = part;
    }
  }
  return rawParts.length === segments.length ? params : undefined;
}

export class Router {
  private readonly byHost = new Map<SimHost, CompiledRoute[]>();

  constructor(routes: SimRoute[]) {
    for (const r of routes) {
      const list = this.byHost.get(r.host) ?? [];
      list.push(compile(r));
      this.byHost.set(r.host, list);
    }
  }

  /** `rawPath` is the path as sent (still percent-encoded), without the query string. */
  match(host: SimHost, method: string, rawPath: string): RouteMatch {
    const parts = splitPath(rawPath);
    let best: { c: CompiledRoute; params: Record<string, string> } | undefined;
    const allowed = new Set<string>();
    for (const c of this.byHost.get(host) ?? []) {
      const params = matchSegments(c.segments, parts);
      if (!params) continue;
      if (c.route.method !== method.toUpperCase()) {
        allowed.add(c.route.method);
        continue;
      }
      if (!best || c.literalCount > best.c.literalCount) best = { c, params };
    }
    if (best) return { kind: 'found', route: best.c.route, params: best.params };
    if (allowed.size) return { kind: 'method-not-allowed', allowed: [...allowed] };
    return { kind: 'not-found' };
  }
}
