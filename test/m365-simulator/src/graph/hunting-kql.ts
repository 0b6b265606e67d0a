/**
 * The KQL subset the simulator runs (microsoft-notes §10): a table, then `where` (`between` on
 * datetimes, `==`, `!=`, `=~`, `<`, `<=`, `>`, `>=`, `in`, `in~`, `has`, joined with `and`),
 * `project`, `order by`/`sort by`, `take`/`limit` and `summarize count() [by …]`. Anything else is
 * refused with a KqlError naming what is not supported, never silently ignored.
 */
import { formatTicks, TICKS_PER_MS, type ColumnType, type HuntingRow, type Schema } from './hunting-tables';

export class KqlError extends Error {}

type Value = string | number | boolean;
type Cmp = '==' | '!=' | '=~' | '!~' | '<' | '<=' | '>' | '>=';
export type Condition =
  | { kind: 'between'; column: string; from: Value; to: Value }
  | { kind: 'cmp'; column: string; op: Cmp; value: Value }
  | { kind: 'in'; column: string; values: Value[]; caseless: boolean }
  | { kind: 'has'; column: string; term: string };
export type Operator =
  | { kind: 'where'; conditions: Condition[] }
  | { kind: 'project'; columns: string[] }
  | { kind: 'order'; keys: Array<{ column: string; desc: boolean }> }
  | { kind: 'take'; count: number }
  | { kind: 'summarize'; by: string[] };
export interface KqlQuery {
  table: string;
  operators: Operator[];
}

interface Token {
  text: string;
  kind: 'word' | 'string' | 'number' | 'symbol';
  at: number;
}

const SYMBOLS = ['..', '==', '!=', '=~', '!~', '<=', '>=', '|', '(', ')', ',', '<', '>'];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw syntax(text, i);
      tokens.push({ text: text.slice(i + 1, end), kind: 'string', at: i });
      i = end + 1;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*~?/.exec(text.slice(i));
    if (word) {
      tokens.push({ text: word[0], kind: 'word', at: i });
      i += word[0].length;
      // `datetime(2025-03-04T10:00:00Z)`: the literal inside is taken whole, quoted or not.
      const literal = word[0].toLowerCase() === 'datetime' ? /^\s*\(([^)]*)\)/.exec(text.slice(i)) : null;
      if (literal) {
        tokens.push({ text: '(', kind: 'symbol', at: i });
        tokens.push({ text: literal[1].trim().replace(/^["']|["']$/g, ''), kind: 'string', at: i + 1 });
        tokens.push({ text: ')', kind: 'symbol', at: i + literal[0].length - 1 });
        i += literal[0].length;
      }
      continue;
    }
    const num = /^\d+(\.\d+)?(?!\.\.)/.exec(text.slice(i)) ?? /^\d+/.exec(text.slice(i));
    if (num) {
      tokens.push({ text: num[0], kind: 'number', at: i });
      i += num[0].length;
      continue;
    }
    // Any other character is a token of its own: the parser refuses it where it does not fit.
    const symbol = SYMBOLS.find((s) => text.startsWith(s, i)) ?? c;
    tokens.push({ text: symbol, kind: 'symbol', at: i });
    i += symbol.length;
  }
  return tokens;
}

/** KQL's own wording for a parse failure: the token and its [line, column]. */
function syntax(text: string, at: number): KqlError {
  const token = text.slice(at).split(/\s/)[0] || '<end of query>';
  return new KqlError(`Query could not be parsed at '${token}' on line [1,${at + 1}]`);
}

/** Parses `ISO` as 100 ns ticks since the epoch (up to seven fractional digits). */
export function parseDatetimeTicks(text: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?)(?:\.(\d{1,7}))?(Z|[+-]\d{2}:\d{2})?$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3] ?? 'Z'}`);
  if (Number.isNaN(ms)) return undefined;
  const fraction = (m[2] ?? '').padEnd(7, '0');
  return ms * TICKS_PER_MS + Number(fraction);
}

const UNITS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

class Parser {
  private i = 0;
  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
    private readonly nowMs: number,
  ) {}

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }
  private next(): Token {
    const t = this.tokens[this.i++];
    if (!t) throw syntax(this.text, this.text.length);
    return t;
  }
  private fail(t: Token | undefined): KqlError {
    return syntax(this.text, t ? t.at : this.text.length);
  }
  private expect(text: string): void {
    const t = this.next();
    if (t.text.toLowerCase() !== text) throw this.fail(t);
  }
  private word(): string {
    const t = this.next();
    if (t.kind !== 'word') throw this.fail(t);
    return t.text;
  }
  private isWord(text: string): boolean {
    return this.peek()?.text.toLowerCase() === text;
  }

  parse(): KqlQuery {
    const table = this.word();
    const operators: Operator[] = [];
    while (this.peek()) {
      this.expect('|');
      operators.push(this.operator());
    }
    return { table, operators };
  }

  private operator(): Operator {
    const t = this.next();
    switch (t.text.toLowerCase()) {
      case 'where': {
        const conditions = [this.condition()];
        while (this.isWord('and')) {
          this.next();
          conditions.push(this.condition());
        }
        return { kind: 'where', conditions };
      }
      case 'project':
        return { kind: 'project', columns: this.columns() };
      case 'order':
      case 'sort': {
        this.expect('by');
        const keys = [this.sortKey()];
        while (this.peek()?.text === ',') {
          this.next();
          keys.push(this.sortKey());
        }
        return { kind: 'order', keys };
      }
      case 'take':
      case 'limit': {
        const n = this.next();
        if (n.kind !== 'number' || !/^\d+$/.test(n.text)) throw this.fail(n);
        return { kind: 'take', count: Number(n.text) };
      }
      case 'summarize': {
        this.expect('count');
        this.expect('(');
        this.expect(')');
        if (!this.peek() || this.peek()!.text === '|') return { kind: 'summarize', by: [] };
        this.expect('by');
        return { kind: 'summarize', by: this.columns() };
      }
      default:
        if (t.kind === 'word') {
          throw new KqlError(
            `The simulator's KQL subset does not support the operator '${t.text}' (it runs where, project, order by, sort by, take, limit and summarize count() by).`,
          );
        }
        throw this.fail(t);
    }
  }

  private columns(): string[] {
    const out = [this.word()];
    while (this.peek()?.text === ',') {
      this.next();
      out.push(this.word());
    }
    return out;
  }

  private sortKey(): { column: string; desc: boolean } {
    const column = this.word();
    // KQL sorts descending unless told otherwise.
    if (this.isWord('asc') || this.isWord('desc')) return { column, desc: this.next().text.toLowerCase() === 'desc' };
    return { column, desc: true };
  }

  private condition(): Condition {
    const column = this.word();
    const t = this.next();
    const op = t.text.toLowerCase();
    if (op === 'between') {
      this.expect('(');
      const from = this.value();
      this.expect('..');
      const to = this.value();
      this.expect(')');
      return { kind: 'between', column, from, to };
    }
    if (op === 'in' || op === 'in~') {
      this.expect('(');
      const values = [this.value()];
      while (this.peek()?.text === ',') {
        this.next();
        values.push(this.value());
      }
      this.expect(')');
      return { kind: 'in', column, values, caseless: op === 'in~' };
    }
    if (op === 'has') {
      const term = this.next();
      if (term.kind !== 'string') throw this.fail(term);
      return { kind: 'has', column, term: term.text };
    }
    if (['==', '!=', '=~', '!~', '<', '<=', '>', '>='].includes(op)) return { kind: 'cmp', column, op: op as Cmp, value: this.value() };
    if (t.kind === 'word') throw new KqlError(`The simulator's KQL subset does not support the operator '${t.text}' in a where clause.`);
    throw this.fail(t);
  }

  /** A literal: a string, a number, true/false, `datetime(…)` or `ago(…)` (as ticks). */
  private value(): Value {
    const t = this.next();
    if (t.kind === 'string') return t.text;
    if (t.kind === 'number') return Number(t.text);
    const fn = t.text.toLowerCase();
    if (fn === 'true' || fn === 'false') return fn === 'true';
    if (fn === 'datetime') {
      this.expect('(');
      const literal = this.next();
      this.expect(')');
      const ticks = literal.kind === 'string' ? parseDatetimeTicks(literal.text) : undefined;
      if (ticks === undefined) throw new KqlError(`Invalid datetime literal '${literal.text}' at line [1,${literal.at + 1}]`);
      return ticks;
    }
    if (fn === 'ago') {
      this.expect('(');
      const n = this.next();
      const unit = this.next();
      this.expect(')');
      const per = UNITS[unit.text.toLowerCase()];
      if (n.kind !== 'number' || per === undefined) throw this.fail(unit);
      return (this.nowMs - Number(n.text) * per) * TICKS_PER_MS;
    }
    throw this.fail(t);
  }
}

export function parseKql(text: string, nowMs: number): KqlQuery {
  return new Parser(text, tokenize(text), nowMs).parse();
}

/** The [from, to) window in ms that `where Timestamp …` clauses before any other operator allow (for generating only those rows). */
export function timestampBounds(query: KqlQuery): { fromMs: number; toMs: number } {
  let fromMs = -Infinity;
  let toMs = Infinity;
  for (const op of query.operators) {
    if (op.kind !== 'where') break;
    for (const c of op.conditions) {
      if (c.column !== 'Timestamp') continue;
      if (c.kind === 'between' && typeof c.from === 'number' && typeof c.to === 'number') {
        fromMs = Math.max(fromMs, Math.floor(c.from / TICKS_PER_MS));
        toMs = Math.min(toMs, Math.floor(c.to / TICKS_PER_MS) + 1);
      } else if (c.kind === 'cmp' && typeof c.value === 'number') {
        const ms = Math.floor(c.value / TICKS_PER_MS);
        if (c.op === '>' || c.op === '>=') fromMs = Math.max(fromMs, ms);
        if (c.op === '<' || c.op === '<=') toMs = Math.min(toMs, ms + 1);
      }
    }
  }
  return { fromMs, toMs };
}

interface Table {
  schema: Schema;
  rows: HuntingRow[];
}

function columnOf(schema: Schema, name: string): { name: string; type: ColumnType } {
  const found = schema.find((c) => c.name === name);
  if (!found) throw new KqlError(`Failed to resolve scalar expression named '${name}'`);
  return found;
}

function cell(row: HuntingRow, column: string): unknown {
  return column === 'Timestamp' ? row.ticks : row.record[column];
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a ?? '').localeCompare(String(b ?? ''));
}

function hasTerm(value: unknown, term: string): boolean {
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? '');
  const needle = term.toLowerCase();
  return (
    text
      .toLowerCase()
      .split(/[^a-z0-9_]+/)
      .includes(needle) ||
    (/[^a-z0-9_]/i.test(needle) && text.toLowerCase().includes(needle))
  );
}

function matches(row: HuntingRow, c: Condition): boolean {
  const v = cell(row, c.column);
  switch (c.kind) {
    case 'between':
      return compare(v, c.from) >= 0 && compare(v, c.to) <= 0;
    case 'in':
      return c.values.some((x) => (c.caseless ? String(x).toLowerCase() === String(v).toLowerCase() : x === v));
    case 'has':
      return hasTerm(v, c.term);
    case 'cmp': {
      const caseless = c.op === '=~' || c.op === '!~';
      const d = caseless ? compare(String(v).toLowerCase(), String(c.value).toLowerCase()) : typeof v === typeof c.value ? compare(v, c.value) : NaN;
      switch (c.op) {
        case '==':
        case '=~':
          return d === 0;
        case '!=':
        case '!~':
          return d !== 0;
        case '<':
          return d < 0;
        case '<=':
          return d <= 0;
        case '>':
          return d > 0;
        case '>=':
          return d >= 0;
      }
    }
  }
  return false;
}

/** Runs the operators over the generated rows; answers Graph's `schema` and `results`. */
export function evaluate(query: KqlQuery, input: Table): { schema: Schema; results: Record<string, unknown>[] } {
  let { schema, rows } = input;
  for (const op of query.operators) {
    switch (op.kind) {
      case 'where':
        for (const c of op.conditions) columnOf(schema, c.column);
        rows = rows.filter((r) => op.conditions.every((c) => matches(r, c)));
        break;
      case 'project': {
        const cols = op.columns.map((c) => columnOf(schema, c));
        schema = cols;
        rows = rows.map((r) => ({ ticks: r.ticks, record: Object.fromEntries(cols.map((c) => [c.name, r.record[c.name]])) }));
        break;
      }
      case 'order':
        for (const k of op.keys) columnOf(schema, k.column);
        rows = [...rows].sort((a, b) => {
          for (const k of op.keys) {
            const d = compare(cell(a, k.column), cell(b, k.column));
            if (d) return k.desc ? -d : d;
          }
          return 0;
        });
        break;
      case 'take':
        rows = rows.slice(0, op.count);
        break;
      case 'summarize': {
        const by = op.by.map((c) => columnOf(schema, c));
        const groups = new Map<string, { record: Record<string, unknown>; count: number }>();
        for (const r of rows) {
          const values = by.map((c) => (c.name === 'Timestamp' ? formatTicks(r.ticks) : r.record[c.name]));
          const key = JSON.stringify(values);
          const g = groups.get(key) ?? { record: Object.fromEntries(by.map((c, i) => [c.name, values[i]])), count: 0 };
          g.count++;
          groups.set(key, g);
        }
        // Without `by`, KQL answers one row even over no rows.
        if (by.length === 0 && groups.size === 0) groups.set('[]', { record: {}, count: 0 });
        schema = [...by, { name: 'count_', type: 'Int64' }];
        rows = [...groups.values()].map((g) => ({ ticks: 0, record: { ...g.record, count_: g.count } }));
        break;
      }
    }
  }
  return { schema, results: rows.map((r) => r.record) };
}
