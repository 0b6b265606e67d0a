/**
 * The small OData v4 `$filter` subset the Defender for Endpoint API documents
 * (https://learn.microsoft.com/defender-endpoint/api/exposed-apis-odata-samples):
 *
 * - comparisons `eq ne gt ge lt le` between a property and a literal, joined by `and` / `or`,
 *   negated by `not`, grouped by parentheses;
 * - `startswith(computerDnsName,'mymachine')` (odata-samples, example 8);
 * - a lambda on collections, `machineTags/any(t: t eq 'x')`;
 * - literals: `'quoted'` strings (`''` escapes a quote), numbers, `true`/`false`/`null`, bare GUIDs
 *   (`aadDeviceId eq 80fe8ff8-…`, microsoft-notes §5.2: the samples write it bare, quoted works too), and
 *   bare dates (`lastSeen gt 2018-08-01Z`, odata-samples example 5).
 *
 * Property names are matched case-insensitively: the samples page itself writes `ComputerDnsName`,
 * `HealthStatus` and `LastSeen`. String comparisons are case-insensitive too (microsoft-notes §5.2 marks
 * it unverified; the MDE backend behaves like a case-insensitive SQL collation, and the sim chooses that).
 * A property outside the endpoint's documented list is an `ODataError`, as is any syntax error.
 */

export class FilterSyntaxError extends Error {}

export type Row = Record<string, unknown>;
export type Predicate = (row: Row) => boolean;

export interface FilterOptions {
  /** The documented filterable properties, in their canonical casing. */
  properties: readonly string[];
  /** Properties holding ISO date strings; quoted literals compared with them are read as dates too. */
  dateProperties?: readonly string[];
}

type Literal =
  { kind: 'string'; value: string } | { kind: 'number'; value: number } | { kind: 'bool'; value: boolean } | { kind: 'null' } | { kind: 'date'; value: number };

type Token = { t: 'punct'; v: string } | { t: 'word'; v: string } | { t: 'string'; v: string };

const COMPARISONS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const DATE_LITERAL = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:\d{2})?$/i;

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (/\s/.test(c)) {
      i++;
    } else if ('(),/'.includes(c)) {
      tokens.push({ t: 'punct', v: c });
      i++;
    } else if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= input.length) throw new FilterSyntaxError('unterminated string literal');
        if (input[i] === "'") {
          if (input[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += input[i++];
      }
      tokens.push({ t: 'string', v: value });
    } else if (/[A-Za-z0-9_.\-+:]/.test(c)) {
      let word = '';
      while (i < input.length && /[A-Za-z0-9_.\-+:]/.test(input[i])) word += input[i++];
      // `any(t: t eq 'x')`: the lambda variable swallows its colon; split it back off.
      if (/^[A-Za-z_]\w*:$/.test(word)) {
        tokens.push({ t: 'word', v: word.slice(0, -1) }, { t: 'punct', v: ':' });
      } else {
        tokens.push({ t: 'word', v: word });
      }
    } else {
      throw new FilterSyntaxError(`unexpected character '${c}' at position ${i}`);
    }
  }
  return tokens;
}

function literalOf(token: Token): Literal | undefined {
  if (token.t === 'string') return { kind: 'string', value: token.v };
  if (token.t !== 'word') return undefined;
  const w = token.v;
  if (w === 'null') return { kind: 'null' };
  if (w === 'true' || w === 'false') return { kind: 'bool', value: w === 'true' };
  if (/^-?\d+(\.\d+)?$/.test(w)) return { kind: 'number', value: Number(w) };
  if (DATE_LITERAL.test(w)) {
    const ms = Date.parse(w.length === 11 && /z$/i.test(w) ? w.slice(0, 10) : w);
    if (Number.isNaN(ms)) throw new FilterSyntaxError(`invalid date literal ${w}`);
    return { kind: 'date', value: ms };
  }
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(w)) return { kind: 'string', value: w };
  return undefined;
}

function compare(value: unknown, op: string, lit: Literal, asDate: boolean): boolean {
  if (lit.kind === 'null') {
    const isNull = value === null || value === undefined;
    if (op === 'eq') return isNull;
    if (op === 'ne') return !isNull;
    throw new FilterSyntaxError(`operator ${op} is not valid with null`);
  }
  if (value === null || value === undefined) return op === 'ne';
  let a: string | number | boolean;
  let b: string | number | boolean;
  if (lit.kind === 'date' || (asDate && lit.kind === 'string')) {
    a = Date.parse(String(value));
    b = lit.kind === 'date' ? lit.value : Date.parse(lit.value);
    if (Number.isNaN(b)) throw new FilterSyntaxError(`invalid date literal '${String((lit as { value: unknown }).value)}'`);
    if (Number.isNaN(a)) return false;
  } else if (lit.kind === 'number') {
    a = Number(value);
    b = lit.value;
  } else if (lit.kind === 'bool') {
    a = value === true || String(value).toLowerCase() === 'true';
    b = lit.value;
  } else {
    a = String(value).toLowerCase();
    b = lit.value.toLowerCase();
  }
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    case 'lt':
      return a < b;
    default:
      return a <= b;
  }
}

/** Compiles a `$filter` expression; throws FilterSyntaxError with a readable reason. */
export function compileFilter(input: string, options: FilterOptions): Predicate {
  const tokens = tokenize(input);
  let pos = 0;
  const canonical = new Map(options.properties.map((p) => [p.toLowerCase(), p]));
  const dateProps = new Set((options.dateProperties ?? []).map((p) => p.toLowerCase()));

  const peek = (): Token | undefined => tokens[pos];
  const isWord = (tok: Token | undefined, w: string): boolean => tok?.t === 'word' && tok.v.toLowerCase() === w;
  const expect = (v: string): void => {
    const tok = tokens[pos++];
    if (!tok || tok.t !== 'punct' || tok.v !== v) throw new FilterSyntaxError(`expected '${v}'`);
  };

  /** An operand: the lambda variable, or a documented property (resolved to its canonical name). */
  type Operand = { get: (row: Row, scope: unknown) => unknown; asDate: boolean; name: string };
  const operand = (lambdaVar?: string): Operand => {
    const tok = tokens[pos++];
    if (!tok || tok.t !== 'word') throw new FilterSyntaxError('expected a property name');
    if (lambdaVar && tok.v === lambdaVar) return { get: (_row, scope) => scope, asDate: false, name: tok.v };
    const name = canonical.get(tok.v.toLowerCase());
    if (!name) throw new FilterSyntaxError(`property '${tok.v}' is not supported in $filter`);
    return { get: (row) => row[name], asDate: dateProps.has(name.toLowerCase()), name };
  };

  const primary = (lambdaVar?: string): ((row: Row, scope: unknown) => boolean) => {
    const tok = peek();
    if (tok?.t === 'punct' && tok.v === '(') {
      pos++;
      const inner = orExpr(lambdaVar);
      expect(')');
      return inner;
    }
    if (isWord(tok, 'not')) {
      pos++;
      const inner = primary(lambdaVar);
      return (row, scope) => !inner(row, scope);
    }
    if (isWord(tok, 'startswith') && tokens[pos + 1]?.t === 'punct' && tokens[pos + 1].v === '(') {
      pos += 2;
      const target = operand(lambdaVar);
      expect(',');
      const prefixTok = tokens[pos++];
      if (!prefixTok || prefixTok.t !== 'string') throw new FilterSyntaxError('startswith expects a quoted string');
      expect(')');
      const prefix = prefixTok.v.toLowerCase();
      return (row, scope) => {
        const v = target.get(row, scope);
        return typeof v === 'string' && v.toLowerCase().startsWith(prefix);
      };
    }
    if (tok?.t === 'word' && tokens[pos + 1]?.t === 'punct' && tokens[pos + 1].v === '(') {
      throw new FilterSyntaxError(`function '${tok.v}' is not supported`);
    }
    const left = operand(lambdaVar);
    const next = peek();
    if (next?.t === 'punct' && next.v === '/') {
      pos++;
      if (!isWord(peek(), 'any')) throw new FilterSyntaxError('only the any() lambda is supported');
      pos++;
      expect('(');
      const varTok = tokens[pos++];
      if (!varTok || varTok.t !== 'word') throw new FilterSyntaxError('expected a lambda variable');
      expect(':');
      const body = orExpr(varTok.v);
      expect(')');
      return (row) => {
        const collection = left.get(row, undefined);
        return Array.isArray(collection) && collection.some((item) => body(row, item));
      };
    }
    const opTok = tokens[pos++];
    if (!opTok || opTok.t !== 'word' || !COMPARISONS.has(opTok.v.toLowerCase())) {
      throw new FilterSyntaxError(`expected a comparison operator after '${left.name}'`);
    }
    const litTok = tokens[pos++];
    const lit = litTok && literalOf(litTok);
    if (!lit) throw new FilterSyntaxError(`expected a literal after '${left.name} ${opTok.v}'`);
    const op = opTok.v.toLowerCase();
    return (row, scope) => compare(left.get(row, scope), op, lit, left.asDate);
  };

  const andExpr = (lambdaVar?: string): ((row: Row, scope: unknown) => boolean) => {
    const parts = [primary(lambdaVar)];
    while (isWord(peek(), 'and')) {
      pos++;
      parts.push(primary(lambdaVar));
    }
    return (row, scope) => parts.every((p) => p(row, scope));
  };

  function orExpr(lambdaVar?: string): (row: Row, scope: unknown) => boolean {
    const parts = [andExpr(lambdaVar)];
    while (isWord(peek(), 'or')) {
      pos++;
      parts.push(andExpr(lambdaVar));
    }
    return (row, scope) => parts.some((p) => p(row, scope));
  }

  if (tokens.length === 0) throw new FilterSyntaxError('empty $filter');
  const predicate = orExpr();
  if (pos !== tokens.length) throw new FilterSyntaxError(`unexpected '${tokens[pos].v}'`);
  return (row) => predicate(row, undefined);
}
