/**
 * A small OData v4 `$filter` parser and evaluator, enough for the Graph endpoints Cordon reads
 * (microsoft-notes §3.1: comparisons, `and`/`or`/`not`, parentheses, `in`, `startswith`, and
 * `targetResources/any(t:t/id eq '…')` on directoryAudits).
 *
 * Literals: `'strings'` (quote doubled to escape), unquoted ISO datetimes
 * (`createdDateTime ge 2025-03-01T00:00:00Z`, microsoft-notes §3), numbers, GUIDs, `true`,
 * `false`, `null`. Enum members are written as strings (`severity eq 'high'`), as Graph v1.0 accepts.
 */

export type Literal =
  | { kind: 'lit'; type: 'string'; value: string }
  | { kind: 'lit'; type: 'datetime'; value: string; ms: number }
  | { kind: 'lit'; type: 'number'; value: number }
  | { kind: 'lit'; type: 'boolean'; value: boolean }
  | { kind: 'lit'; type: 'null'; value: null };

export type StringLiteral = Extract<Literal, { type: 'string' }>;

export interface PropRef {
  kind: 'prop';
  path: string[];
}

export type Operand = Literal | PropRef;
export type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export type FilterNode =
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; expr: FilterNode }
  | { kind: 'cmp'; op: CompareOp; left: Operand; right: Operand }
  | { kind: 'in'; left: PropRef; values: Literal[] }
  | { kind: 'call'; name: 'startswith' | 'endswith' | 'contains'; target: PropRef; arg: StringLiteral }
  | { kind: 'lambda'; op: 'any' | 'all'; collection: string[]; variable: string; body: FilterNode };

/** Why a filter was refused: bad syntax, or valid OData this endpoint does not support. */
export class ODataFilterError extends Error {
  constructor(
    message: string,
    readonly kind: 'syntax' | 'unsupported',
  ) {
    super(message);
  }
}

type Token = { t: 'punct'; v: '(' | ')' | ',' | '/' | ':' } | { t: 'ident'; v: string } | { t: 'lit'; lit: Literal };

const DATETIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})?)?/;
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-])/;
const NUMBER = /^-?\d+(?:\.\d+)?(?![\w-])/;
const IDENT = /^[A-Za-z_@$][\w.@$]*/;

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if ('(),/:'.includes(ch)) {
      tokens.push({ t: 'punct', v: ch as '(' });
      i++;
      continue;
    }
    if (ch === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= input.length) throw new ODataFilterError('Unterminated string literal.', 'syntax');
        if (input[j] === "'") {
          if (input[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += input[j++];
      }
      tokens.push({ t: 'lit', lit: { kind: 'lit', type: 'string', value } });
      i = j + 1;
      continue;
    }
    const rest = input.slice(i);
    const guid = GUID.exec(rest);
    if (guid) {
      tokens.push({ t: 'lit', lit: { kind: 'lit', type: 'string', value: guid[0] } });
      i += guid[0].length;
      continue;
    }
    const dt = DATETIME.exec(rest);
    if (dt && /^\d{4}-/.test(rest)) {
      const ms = utcMs(dt[0]);
      if (Number.isNaN(ms)) throw new ODataFilterError(`Invalid datetime literal '${dt[0]}'.`, 'syntax');
      tokens.push({ t: 'lit', lit: { kind: 'lit', type: 'datetime', value: dt[0], ms } });
      i += dt[0].length;
      continue;
    }
    const num = NUMBER.exec(rest);
    if (num) {
      tokens.push({ t: 'lit', lit: { kind: 'lit', type: 'number', value: Number(num[0]) } });
      i += num[0].length;
      continue;
    }
    const id = IDENT.exec(rest);
    if (id) {
      const word = id[0];
      if (word === 'true' || word === 'false') {
        tokens.push({ t: 'lit', lit: { kind: 'lit', type: 'boolean', value: word === 'true' } });
      } else if (word === 'null') {
        tokens.push({ t: 'lit', lit: { kind: 'lit', type: 'null', value: null } });
      } else {
        tokens.push({ t: 'ident', v: word });
      }
      i += word.length;
      continue;
    }
    throw new ODataFilterError(`Syntax error: character '${ch}' is not valid at position ${i}.`, 'syntax');
  }
  return tokens;
}

/** Milliseconds of an ISO timestamp; one without a zone is UTC (JS would read it as local time). */
export function utcMs(text: string): number {
  const zoned = /(?:Z|[+-]\d{2}:\d{2})$/i.test(text) || !text.includes('T') ? text : `${text}Z`;
  return Date.parse(zoned);
}

const COMPARE_OPS = new Set<string>(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const FUNCTIONS = new Set<string>(['startswith', 'endswith', 'contains']);

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): FilterNode {
    if (this.tokens.length === 0) throw new ODataFilterError('The $filter expression is empty.', 'syntax');
    const node = this.or();
    if (this.pos < this.tokens.length) throw this.unexpected();
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private isWord(word: string): boolean {
    const tok = this.peek();
    return tok?.t === 'ident' && tok.v.toLowerCase() === word;
  }

  private isPunct(p: string): boolean {
    const tok = this.peek();
    return tok?.t === 'punct' && tok.v === p;
  }

  private expectPunct(p: string): void {
    if (!this.isPunct(p)) throw this.unexpected(`'${p}' expected`);
    this.pos++;
  }

  private unexpected(what = 'unexpected token'): ODataFilterError {
    const tok = this.peek();
    const at = tok ? (tok.t === 'lit' ? String(tok.lit.value) : tok.v) : 'end of expression';
    return new ODataFilterError(`Syntax error: ${what} at '${at}'.`, 'syntax');
  }

  private or(): FilterNode {
    let left = this.and();
    while (this.isWord('or')) {
      this.pos++;
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): FilterNode {
    let left = this.unary();
    while (this.isWord('and')) {
      this.pos++;
      left = { kind: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): FilterNode {
    if (this.isWord('not')) {
      this.pos++;
      return { kind: 'not', expr: this.unary() };
    }
    if (this.isPunct('(')) {
      this.pos++;
      const inner = this.or();
      this.expectPunct(')');
      return inner;
    }
    const tok = this.peek();
    if (tok?.t === 'ident' && FUNCTIONS.has(tok.v.toLowerCase()) && this.tokens[this.pos + 1]?.t === 'punct') {
      return this.call();
    }
    return this.comparisonOrLambda();
  }

  private call(): FilterNode {
    const name = (this.tokens[this.pos++] as { v: string }).v.toLowerCase() as 'startswith';
    this.expectPunct('(');
    const target = this.operand();
    this.expectPunct(',');
    const arg = this.operand();
    this.expectPunct(')');
    if (target.kind !== 'prop' || arg.kind !== 'lit' || arg.type !== 'string') {
      throw new ODataFilterError(`${name} expects a property and a string literal.`, 'syntax');
    }
    return { kind: 'call', name, target, arg };
  }

  private comparisonOrLambda(): FilterNode {
    const left = this.operand();
    if (left.kind === 'prop' && this.isPunct('(')) {
      const op = left.path[left.path.length - 1].toLowerCase();
      if (op !== 'any' && op !== 'all') throw this.unexpected();
      this.pos++;
      const variable = this.peek();
      if (variable?.t !== 'ident') throw this.unexpected('lambda variable expected');
      this.pos++;
      this.expectPunct(':');
      const body = this.or();
      this.expectPunct(')');
      return { kind: 'lambda', op, collection: left.path.slice(0, -1), variable: variable.v, body };
    }
    if (left.kind === 'prop' && this.isWord('in')) {
      this.pos++;
      this.expectPunct('(');
      const values: Literal[] = [];
      for (;;) {
        const value = this.operand();
        if (value.kind !== 'lit') throw new ODataFilterError('The in operator takes literals.', 'syntax');
        values.push(value);
        if (this.isPunct(',')) {
          this.pos++;
          continue;
        }
        break;
      }
      this.expectPunct(')');
      return { kind: 'in', left, values };
    }
    const opTok = this.peek();
    if (opTok?.t !== 'ident' || !COMPARE_OPS.has(opTok.v.toLowerCase())) {
      if (opTok?.t === 'ident' && /^(has|add|sub|mul|div|mod)$/i.test(opTok.v)) {
        throw new ODataFilterError(`The '${opTok.v}' operator is not supported.`, 'unsupported');
      }
      throw this.unexpected('comparison operator expected');
    }
    this.pos++;
    const right = this.operand();
    return { kind: 'cmp', op: opTok.v.toLowerCase() as CompareOp, left, right };
  }

  private operand(): Operand {
    const tok = this.peek();
    if (!tok) throw this.unexpected('operand expected');
    if (tok.t === 'lit') {
      this.pos++;
      return tok.lit;
    }
    if (tok.t !== 'ident') throw this.unexpected('operand expected');
    this.pos++;
    const path = [tok.v];
    while (this.isPunct('/')) {
      this.pos++;
      const next = this.peek();
      if (next?.t !== 'ident') throw this.unexpected('property name expected');
      path.push(next.v);
      this.pos++;
    }
    if (this.isPunct('(') && !['any', 'all'].includes(path[path.length - 1].toLowerCase())) {
      throw new ODataFilterError(`The function '${path.join('/')}' is not supported.`, 'unsupported');
    }
    return { kind: 'prop', path };
  }
}

export function parseFilter(input: string): FilterNode {
  return new Parser(tokenize(input)).parse();
}
