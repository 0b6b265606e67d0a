/**
 * Checking and evaluating a parsed `$filter` (see odata.ts for the grammar).
 *
 * Comparisons follow Graph: string and enum equality is case-insensitive, datetimes compare as
 * instants (stored Management-API timestamps without a zone are UTC, microsoft-notes §2.3), and a
 * missing value only satisfies `ne` and `eq null`.
 */
import { ODataFilterError, utcMs, type CompareOp, type FilterNode, type Literal, type Operand, type PropRef } from './odata';

/** What an endpoint lets you filter on. Paths use `/` (`status/errorCode`). */
export interface FilterSpec {
  properties: string[];
  /** Collections usable with any/all, and the element properties allowed inside. */
  lambdas?: Record<string, string[]>;
  /** Allowed functions; default `startswith` only. */
  functions?: Array<'startswith' | 'endswith' | 'contains'>;
}

/** Throws ODataFilterError('unsupported') when the filter uses something outside `spec`. */
export function checkFilter(node: FilterNode, spec: FilterSpec, lambdaVar?: { name: string; allowed: string[] }): void {
  const allowedProps = new Map(spec.properties.map((p) => [p.toLowerCase(), p]));
  const checkProp = (ref: PropRef): void => {
    const path = ref.path;
    if (lambdaVar && path[0] === lambdaVar.name) {
      const inner = path.slice(1).join('/').toLowerCase();
      if (!lambdaVar.allowed.some((p) => p.toLowerCase() === inner)) {
        throw new ODataFilterError(`Unsupported or invalid query filter clause specified for property '${inner}'.`, 'unsupported');
      }
      return;
    }
    const joined = path.join('/');
    if (!allowedProps.has(joined.toLowerCase())) {
      throw new ODataFilterError(`Unsupported or invalid query filter clause specified for property '${joined}'.`, 'unsupported');
    }
  };
  const checkOperand = (op: Operand): void => {
    if (op.kind === 'prop') checkProp(op);
  };
  switch (node.kind) {
    case 'and':
    case 'or':
      checkFilter(node.left, spec, lambdaVar);
      checkFilter(node.right, spec, lambdaVar);
      return;
    case 'not':
      checkFilter(node.expr, spec, lambdaVar);
      return;
    case 'cmp':
      checkOperand(node.left);
      checkOperand(node.right);
      if (node.left.kind !== 'prop' && node.right.kind !== 'prop') {
        throw new ODataFilterError('A comparison must name a property.', 'unsupported');
      }
      return;
    case 'in':
      checkProp(node.left);
      return;
    case 'call':
      if (!(spec.functions ?? ['startswith']).includes(node.name)) {
        throw new ODataFilterError(`The function '${node.name}' is not supported on this resource.`, 'unsupported');
      }
      checkProp(node.target);
      return;
    case 'lambda': {
      const collection = node.collection.join('/');
      const allowed = Object.entries(spec.lambdas ?? {}).find(([k]) => k.toLowerCase() === collection.toLowerCase());
      if (!allowed) {
        throw new ODataFilterError(`Lambda operator '${node.op}' is not supported on '${collection}'.`, 'unsupported');
      }
      checkFilter(node.body, spec, { name: node.variable, allowed: allowed[1] });
      return;
    }
  }
}

type Scope = Record<string, unknown>;

function resolve(obj: unknown, path: string[], vars: Scope): unknown {
  let current: unknown = path[0] in vars ? vars[path[0]] : getProp(obj, path[0]);
  for (const segment of path.slice(1)) current = getProp(current, segment);
  return current;
}

/** Property lookup, case-insensitive like Graph's. */
function getProp(obj: unknown, name: string): unknown {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const record = obj as Record<string, unknown>;
  if (name in record) return record[name];
  const key = Object.keys(record).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : record[key];
}

/** Parse a stored timestamp; Management-API style values without a zone are UTC (microsoft-notes §2.3). */
export function parseTimestamp(value: unknown): number {
  return typeof value === 'string' ? utcMs(value) : NaN;
}

function operandValue(op: Operand, obj: unknown, vars: Scope): unknown {
  return op.kind === 'lit' ? op : resolve(obj, op.path, vars);
}

/** Compare a stored value with a literal: <0, 0, >0, or undefined when incomparable. */
function compareToLiteral(value: unknown, lit: Literal): number | undefined {
  if (lit.type === 'null') return value === null || value === undefined ? 0 : undefined;
  if (value === null || value === undefined) return undefined;
  switch (lit.type) {
    case 'datetime': {
      const ms = parseTimestamp(value);
      return Number.isNaN(ms) ? undefined : Math.sign(ms - lit.ms);
    }
    case 'number':
      return typeof value === 'number' ? Math.sign(value - lit.value) : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? (value === lit.value ? 0 : value ? 1 : -1) : undefined;
    case 'string': {
      if (typeof value !== 'string') return typeof value === 'number' ? compareToLiteral(String(value), lit) : undefined;
      // Directory and enum comparisons are case-insensitive on Graph.
      const a = value.toLowerCase();
      const b = lit.value.toLowerCase();
      return a === b ? 0 : a < b ? -1 : 1;
    }
  }
}

function applyOp(op: CompareOp, cmp: number | undefined): boolean {
  if (cmp === undefined) return op === 'ne';
  switch (op) {
    case 'eq':
      return cmp === 0;
    case 'ne':
      return cmp !== 0;
    case 'gt':
      return cmp > 0;
    case 'ge':
      return cmp >= 0;
    case 'lt':
      return cmp < 0;
    case 'le':
      return cmp <= 0;
  }
}

const FLIP: Record<CompareOp, CompareOp> = { eq: 'eq', ne: 'ne', gt: 'lt', ge: 'le', lt: 'gt', le: 'ge' };

export function evaluateFilter(node: FilterNode, obj: unknown, vars: Scope = {}): boolean {
  switch (node.kind) {
    case 'and':
      return evaluateFilter(node.left, obj, vars) && evaluateFilter(node.right, obj, vars);
    case 'or':
      return evaluateFilter(node.left, obj, vars) || evaluateFilter(node.right, obj, vars);
    case 'not':
      return !evaluateFilter(node.expr, obj, vars);
    case 'cmp': {
      let { op, left, right } = node;
      if (left.kind === 'lit' && right.kind === 'prop') [left, right, op] = [right, left, FLIP[op]];
      const value = operandValue(left, obj, vars);
      if (right.kind === 'lit') return applyOp(op, compareToLiteral(value, right));
      const other = operandValue(right, obj, vars);
      return applyOp(op, value === other ? 0 : undefined);
    }
    case 'in': {
      const value = resolve(obj, node.left.path, vars);
      return node.values.some((lit) => compareToLiteral(value, lit) === 0);
    }
    case 'call': {
      const value = resolve(obj, node.target.path, vars);
      if (typeof value !== 'string') return false;
      const a = value.toLowerCase();
      const b = node.arg.value.toLowerCase();
      return node.name === 'startswith' ? a.startsWith(b) : node.name === 'endswith' ? a.endsWith(b) : a.includes(b);
    }
    case 'lambda': {
      const collection = resolve(obj, node.collection, vars);
      if (!Array.isArray(collection)) return node.op === 'all';
      const test = (item: unknown): boolean => evaluateFilter(node.body, obj, { ...vars, [node.variable]: item });
      return node.op === 'any' ? collection.some(test) : collection.every(test);
    }
  }
}
