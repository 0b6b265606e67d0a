import type { SimHost } from './types';

/**
 * Fault injection, applied before routing: the next N requests matching `{host?, method?, pathPattern}`
 * get a canned status/headers/body, extra latency, or a destroyed socket. Control routes (`/_sim/*`)
 * are never affected.
 */

export interface FaultSpec {
  host?: SimHost;
  method?: string;
  /**
   * Matched against the decoded path (no query), case-insensitively. A string starting with `^` is a
   * regular expression; anything else is a glob where `*` matches any characters and `?` one.
   */
  pathPattern: string | RegExp;
  /** How many matching requests it applies to (default 1; 0 or negative ⇒ until removed). */
  times?: number;
  /** Matching requests let through untouched before it applies (default 0): a failure part-way through a run. */
  skip?: number;
  /** Answer with this status (and headers/body) instead of routing. */
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Wait this many real milliseconds first (then answer `status`, or route normally). */
  latencyMs?: number;
  /** Destroy the socket without answering. */
  drop?: boolean;
}

export interface ActiveFault extends FaultSpec {
  id: number;
  /** Remaining uses; Infinity when unlimited. */
  remaining: number;
  /** Matching requests still to let through before it applies. */
  skipping: number;
  matched: number;
}

export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const ch of glob) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'i');
}

export function patternToRegExp(p: string | RegExp): RegExp {
  if (p instanceof RegExp) return p;
  return p.startsWith('^') ? new RegExp(p, 'i') : globToRegExp(p);
}

export function validateFaultSpec(spec: unknown): FaultSpec {
  const s = spec as FaultSpec;
  if (!s || typeof s !== 'object') throw new Error('fault must be an object');
  if (typeof s.pathPattern !== 'string' && !(s.pathPattern instanceof RegExp)) {
    throw new Error('fault.pathPattern (string: glob, or regex starting with ^) is required');
  }
  if (s.status === undefined && s.latencyMs === undefined && !s.drop) {
    throw new Error('fault needs status, latencyMs or drop');
  }
  if (s.status !== undefined && (!Number.isInteger(s.status) || s.status < 100 || s.status > 599)) {
    throw new Error('fault.status must be an HTTP status code');
  }
  if (s.host !== undefined && !['login', 'graph', 'manage', 'defender'].includes(s.host)) {
    throw new Error('fault.host must be login, graph, manage or defender');
  }
  patternToRegExp(s.pathPattern); // throws on a bad regex
  return s;
}

export class FaultInjector {
  private faults: Array<ActiveFault & { regex: RegExp }> = [];
  private nextId = 1;

  add(spec: FaultSpec): ActiveFault {
    validateFaultSpec(spec);
    const times = spec.times ?? 1;
    const fault = {
      ...spec,
      id: this.nextId++,
      remaining: times > 0 ? times : Infinity,
      skipping: Math.max(0, Math.floor(spec.skip ?? 0)),
      matched: 0,
      regex: patternToRegExp(spec.pathPattern),
    };
    this.faults.push(fault);
    return this.describe(fault);
  }

  clear(): void {
    this.faults = [];
  }

  remove(id: number): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    return this.faults.length !== before;
  }

  list(): ActiveFault[] {
    return this.faults.map((f) => this.describe(f));
  }

  /** Finds the first fault for this request and consumes one use of it. */
  take(host: SimHost, method: string, path: string): ActiveFault | undefined {
    const f = this.faults.find((x) => (!x.host || x.host === host) && (!x.method || x.method.toUpperCase() === method.toUpperCase()) && x.regex.test(path));
    if (!f) return undefined;
    if (f.skipping > 0) {
      f.skipping -= 1;
      return undefined;
    }
    f.remaining -= 1;
    f.matched += 1;
    if (f.remaining <= 0) this.faults = this.faults.filter((x) => x !== f);
    return this.describe(f);
  }

  private describe(f: ActiveFault & { regex?: RegExp }): ActiveFault {
    const { regex: _regex, ...rest } = f;
    return { ...rest, pathPattern: String(f.pathPattern) };
  }
}
