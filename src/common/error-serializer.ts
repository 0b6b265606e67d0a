/**
 * Turns anything thrown into plain JSON for a log line: type, message, stack, the `cause` chain, an
 * AggregateError's `errors`, and the error's own fields. It never throws: an object met again (a
 * circular reference) becomes "[Circular]", nesting stops at a fixed depth, and values that are not errors (a string, an object,
 * undefined) are described rather than lost. Field names are kept, so the logger's redaction still
 * sees `password`, `token` and the like.
 */
export interface SerializedError {
  type: string;
  message: string;
  stack?: string;
  code?: string | number;
  cause?: SerializedValue;
  errors?: SerializedValue[];
  [field: string]: unknown;
}

type SerializedValue = SerializedError | SerializedValue[] | { [field: string]: SerializedValue } | string | number | boolean | null;

const MAX_DEPTH = 8;
const MAX_ITEMS = 20;
const MAX_STRING = 4000;
/** Error fields written by the serializer itself, or never worth a log line. */
const SKIPPED_FIELDS = new Set(['name', 'message', 'stack', 'cause', 'errors', 'code']);

export function serializeError(thrown: unknown): SerializedError {
  const described = describe(thrown, new WeakSet(), 0);
  if (thrown instanceof Error) return described as SerializedError;
  if (typeof described !== 'object' || described === null || Array.isArray(described))
    return { type: typeOf(thrown), message: describeText(thrown), ...(Array.isArray(described) ? { items: described } : {}) };
  // A thrown object that is not an Error: its fields, under a type and a message.
  const message = typeof described.message === 'string' ? described.message : describeText(thrown);
  return { ...described, type: typeOf(thrown), message };
}

function describe(value: unknown, seen: WeakSet<object>, depth: number): SerializedValue {
  if (value === null) return null;
  if (typeof value === 'string') return clip(value);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value !== 'object' && typeof value !== 'function') return String(value);
  const object = value as object;
  if (seen.has(object)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Too deep]';
  // Each object is described once: a second meeting (a cycle, or a shared object) is a marker, which
  // also keeps the work linear however the objects are linked.
  seen.add(object);
  return object instanceof Error ? describeError(object, seen, depth) : describeObject(object, seen, depth);
}

function describeError(error: Error, seen: WeakSet<object>, depth: number): SerializedError {
  const out: SerializedError = { type: typeOf(error), message: clip(readString(() => error.message) ?? '') };
  const stack = readString(() => error.stack);
  if (stack) out.stack = clip(stack);
  const code = read(() => (error as { code?: unknown }).code);
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  const cause = read(() => (error as { cause?: unknown }).cause);
  if (cause !== undefined) out.cause = describe(cause, seen, depth + 1);
  const errors = read(() => (error as { errors?: unknown }).errors);
  if (Array.isArray(errors)) out.errors = errors.slice(0, MAX_ITEMS).map((e) => describe(e, seen, depth + 1));
  for (const [key, field] of ownFields(error)) {
    if (!SKIPPED_FIELDS.has(key)) out[key] = describe(field, seen, depth + 1);
  }
  return out;
}

/** A plain copy of an object's fields (an array's first items), each described in turn. */
function describeObject(object: object, seen: WeakSet<object>, depth: number): SerializedValue {
  if (Array.isArray(object)) return object.slice(0, MAX_ITEMS).map((item) => describe(item, seen, depth + 1));
  return Object.fromEntries(ownFields(object).map(([key, field]) => [key, describe(field, seen, depth + 1)]));
}

/** Own enumerable fields, at most MAX_ITEMS, without functions and undefined; a getter that throws is "[Unreadable]". */
function ownFields(object: object): Array<[string, unknown]> {
  const keys = read(() => Object.keys(object)) ?? [];
  const fields: Array<[string, unknown]> = [];
  for (const key of keys.slice(0, MAX_ITEMS)) {
    let field: unknown;
    try {
      field = (object as Record<string, unknown>)[key];
    } catch {
      field = '[Unreadable]';
    }
    if (typeof field !== 'function' && field !== undefined) fields.push([key, field]);
  }
  return fields;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object' && typeof value !== 'function') return typeof value;
  const name = read(() => (value as { name?: unknown }).name);
  if (value instanceof Error && typeof name === 'string' && name) return name;
  const constructor = read(() => (value as { constructor?: { name?: unknown } }).constructor?.name);
  return typeof constructor === 'string' && constructor ? constructor : 'Object';
}

function describeText(thrown: unknown): string {
  const text = read(() => String(thrown));
  return text === undefined || /^\[object \w+\]$/.test(text) ? `a thrown ${typeOf(thrown)}` : clip(text);
}

function read<T>(get: () => T): T | undefined {
  try {
    return get();
  } catch {
    return undefined;
  }
}

function readString(get: () => unknown): string | undefined {
  const value = read(get);
  return typeof value === 'string' ? value : value === undefined || value === null ? undefined : String(value);
}

function clip(text: string): string {
  return text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}… (${text.length} characters)` : text;
}
