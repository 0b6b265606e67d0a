import fc from 'fast-check';

/**
 * Requests generated from `openapi/openapi.json`: for one operation, valid requests built from its
 * parameter and body schemas, and the same requests mutated one way each (the `MutationKind`s).
 * A request is plain data (method, path, raw header pairs, raw body bytes), so a failing case
 * prints as something one can replay with curl.
 */

export interface Schema {
  type?: string;
  format?: string;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | boolean;
  allOf?: Schema[];
  $ref?: string;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}

export interface Operation {
  method: string;
  path: string;
  operationId: string;
  /** The roles the route admits, from its "Roles: a, b." description; undefined for a public route. */
  roles?: string[];
  parameters: Parameter[];
  body?: Schema;
  bodyRequired: boolean;
  documented: Set<number>;
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      {
        operationId: string;
        description?: string;
        parameters?: Parameter[];
        requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
        responses: Record<string, unknown>;
      }
    >
  >;
  components: { schemas: Record<string, Schema> };
}

/** Every operation of the document, with `$ref`s resolved. */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  const resolve = (schema: Schema): Schema => {
    if (schema.$ref) return resolve(doc.components.schemas[schema.$ref.split('/').pop()!]);
    if (schema.allOf?.length === 1) return resolve(schema.allOf[0]);
    const out: Schema = { ...schema };
    if (schema.items) out.items = resolve(schema.items);
    if (schema.properties) out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, resolve(v)]));
    if (schema.additionalProperties && typeof schema.additionalProperties === 'object') out.additionalProperties = resolve(schema.additionalProperties);
    return out;
  };
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const roles = /Roles: ([a-z, ]+)\./.exec(op.description ?? '')?.[1].split(', ');
      const body = op.requestBody?.content['application/json']?.schema;
      operations.push({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId,
        roles,
        parameters: (op.parameters ?? []).map((p) => ({ ...p, schema: resolve(p.schema) })),
        body: body && resolve(body),
        bodyRequired: op.requestBody?.required ?? false,
        documented: new Set(Object.keys(op.responses).map(Number)),
      });
    }
  }
  return operations;
}

/** Values the fuzzer knows exist (so that valid requests reach past "not found"). */
export interface KnownValues {
  /** Path parameter or query values by name, tried alongside generated ones. */
  byName: Record<string, string[]>;
  /** Overrides for a path parameter of one operation (`"DELETE /v1/tenants/{id}" -> ids`). */
  byOperation: Record<string, Record<string, string[]>>;
}

export const MUTATIONS = [
  'wrong-type',
  'missing-field',
  'extra-field',
  'boundary-length',
  'nul',
  'lone-surrogate',
  'unicode',
  'huge-number',
  'deep-nesting',
  'bad-uuid',
  'bad-cursor',
  'bad-path',
  'malformed-json',
  'wrong-content-type',
  'duplicate-headers',
] as const;
export type MutationKind = 'valid' | (typeof MUTATIONS)[number];

/** A request before it is put into bytes: the body may hold `Raw` literals (JSON text inserted as is). */
interface Draft {
  pathParams: Record<string, string>;
  query: Record<string, string>;
  headers: Array<[string, string]>;
  body?: unknown;
  /** Set when the mutation replaces the body bytes (malformed JSON, deep nesting). */
  rawBody?: string;
  contentType?: string | null;
}

class Raw {
  constructor(readonly text: string) {}
}

export interface FuzzRequest {
  kind: MutationKind;
  /** What the mutation touched, for the report. */
  detail: string;
  method: string;
  path: string;
  headers: Array<[string, string]>;
  body?: Buffer;
}

const HOSTILE_STRINGS = {
  nul: ['a\u0000b', '\u0000', 'INC-1\u0000'],
  'lone-surrogate': ['\ud800', 'x\udfffy', '\ud83d'],
  unicode: ['\u202egnp.exe', 'مرحبا بالعالم', '🔥💀🧨', 'e\u0301\u0301\u0301', '\u200b\u200d\ufeff', '𝕌𝕟𝕚𝕔𝕠𝕕𝕖', 'Ω≈ç√∫'],
};
const BAD_UUIDS = [
  '',
  'not-a-uuid',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-fffffffffffff',
  "1' OR '1'='1",
  '..',
  '%2e%2e%2f',
  'null',
  '123',
  '{}',
];
const BAD_CURSORS = [
  '',
  '!!!',
  'e30',
  'eyJ0IjoxfQ',
  'bnVsbA',
  'W10',
  'x'.repeat(5000),
  '%00',
  'eyJhdCI6Im5vdCBhIGRhdGUiLCJpZCI6NX0',
  'AAAA////',
  'eyJzZXEiOiI5OTk5OTk5OTk5OTk5OTk5OTk5OTk5In0',
];
const HUGE_NUMBERS = [
  '1e308',
  '1e400',
  '-1e400',
  '9223372036854775808',
  '-9223372036854775809',
  '18446744073709551616',
  '0.5',
  '-1',
  '1e-400',
  '-0',
  '123456789012345678901234567890',
];
const BAD_PATH_SEGMENTS = ['%2F', '..%2F..%2Fetc', '%', 'a%ZZ', '%C0%AF', '%ED%A0%80', '%F0%9F%94%A5', '%20', '%20%20', '~', 'a'.repeat(3000)];
const WRONG_CONTENT_TYPES = [
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/jsonx',
  'application/json-patch+json',
  '*/*',
  '',
];

/** A JSON value of another type than `schema` says. */
function wrongTypeOf(schema: Schema): fc.Arbitrary<unknown> {
  const all: Array<[string, unknown]> = [
    ['string', 'text'],
    ['number', 42],
    ['boolean', true],
    ['null', null],
    ['array', ['a']],
    ['object', { a: 1 }],
  ];
  const type = schema.type === 'integer' ? 'number' : (schema.type ?? 'string');
  return fc.constantFrom(...all.filter(([t]) => t !== type).map(([, v]) => v));
}

/** A valid value for `schema` (strings short, arrays small: the point is reaching the code). */
export function valueOf(schema: Schema): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'string':
      if (schema.format === 'uuid') return fc.uuid();
      if (schema.format === 'date-time')
        return fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
      {
        // Short strings, but never shorter than the schema allows (a SHA-1 is 40 characters).
        const minLength = schema.minLength ?? 0;
        return fc.string({ minLength, maxLength: Math.max(minLength, Math.min(schema.maxLength ?? 30, 30)) });
      }
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(valueOf(schema.items ?? { type: 'string' }), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 3, 3) });
    default: {
      const properties = schema.properties ?? {};
      const record = fc.record(Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, valueOf(v)])), {
        requiredKeys: (schema.required ?? []).filter((k) => k in properties),
      });
      if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
        const extra = fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), valueOf(schema.additionalProperties), { maxKeys: 3 });
        return fc.tuple(record, extra).map(([r, e]) => ({ ...e, ...r }));
      }
      return record;
    }
  }
}

/** Where a value lives in a draft, so a mutation can replace it. */
interface Slot {
  where: 'path' | 'query' | 'body';
  key: string[];
  schema: Schema;
}

function bodySlots(schema: Schema | undefined, value: unknown, key: string[] = []): Slot[] {
  if (!schema) return [];
  const here: Slot[] = key.length > 0 ? [{ where: 'body', key, schema }] : [];
  if (schema.properties && value && typeof value === 'object' && !Array.isArray(value)) {
    const props = schema.properties;
    return [
      ...here,
      ...Object.keys(props).flatMap((k) =>
        k in (value as object)
          ? bodySlots(props[k], (value as Record<string, unknown>)[k], [...key, k])
          : [{ where: 'body' as const, key: [...key, k], schema: props[k] }],
      ),
    ];
  }
  if (schema.items && Array.isArray(value) && value.length > 0) return [...here, ...bodySlots(schema.items, value[0], [...key, '0'])];
  return here;
}

function slotsOf(op: Operation, draft: Draft): Slot[] {
  return [
    ...op.parameters.filter((p) => p.in === 'path').map((p) => ({ where: 'path' as const, key: [p.name], schema: p.schema })),
    ...op.parameters.filter((p) => p.in === 'query').map((p) => ({ where: 'query' as const, key: [p.name], schema: p.schema })),
    ...bodySlots(op.body, draft.body),
  ];
}

function setAt(draft: Draft, slot: Slot, value: unknown): Draft {
  if (slot.where !== 'body') {
    const text = value instanceof Raw ? value.text : typeof value === 'string' ? value : JSON.stringify(value);
    return { ...draft, [slot.where === 'path' ? 'pathParams' : 'query']: { ...(slot.where === 'path' ? draft.pathParams : draft.query), [slot.key[0]]: text } };
  }
  const body = structuredClone(draft.body ?? {}) as Record<string, unknown>;
  let node: Record<string, unknown> = body;
  for (const k of slot.key.slice(0, -1)) {
    if (!node[k] || typeof node[k] !== 'object') node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[slot.key[slot.key.length - 1]] = value;
  return { ...draft, body };
}

function deleteAt(draft: Draft, key: string[]): Draft {
  const body = structuredClone(draft.body ?? {}) as Record<string, unknown>;
  let node: Record<string, unknown> = body;
  for (const k of key.slice(0, -1)) node = (node[k] ?? {}) as Record<string, unknown>;
  delete node[key[key.length - 1]];
  return { ...draft, body };
}

/** A slot of the draft chosen by the generator, or the draft unchanged when there is none. */
function mutateSlot(
  op: Operation,
  draft: Draft,
  pick: (slot: Slot) => boolean,
  change: (slot: Slot) => fc.Arbitrary<unknown>,
): fc.Arbitrary<[Draft, string]> | undefined {
  const slots = slotsOf(op, draft).filter(pick);
  if (slots.length === 0) return undefined;
  return fc
    .constantFrom(...slots)
    .chain((slot) => change(slot).map((value): [Draft, string] => [setAt(draft, slot, value), `${slot.where}.${slot.key.join('.')}`]));
}

const isString = (s: Slot) => s.schema.type === 'string' || s.schema.type === undefined;

function nested(depth: number, shape: 'array' | 'object'): string {
  return shape === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/** The mutations that apply to a draft of `op`, each an arbitrary of the mutated draft and what it touched. */
function mutationsOf(op: Operation, draft: Draft): Partial<Record<MutationKind, fc.Arbitrary<[Draft, string]>>> {
  const out: Partial<Record<MutationKind, fc.Arbitrary<[Draft, string] | undefined>>> = {
    'wrong-type': mutateSlot(
      op,
      draft,
      (s) => s.where === 'body',
      (s) => wrongTypeOf(s.schema),
    ),
    'boundary-length': mutateSlot(op, draft, isString, (s) => {
      const max = s.schema.maxLength;
      const lengths = [0, 1, 255, 256, 4096, 70_000, ...(max === undefined ? [] : [max, max + 1]), ...(s.schema.minLength ? [s.schema.minLength - 1] : [])];
      return fc.constantFrom(...lengths).map((n) => 'a'.repeat(n));
    }),
    nul: mutateSlot(op, draft, isString, () => fc.constantFrom(...HOSTILE_STRINGS.nul)),
    'lone-surrogate': mutateSlot(op, draft, isString, () => fc.constantFrom(...HOSTILE_STRINGS['lone-surrogate'])),
    unicode: mutateSlot(op, draft, isString, () => fc.constantFrom(...HOSTILE_STRINGS.unicode)),
    'huge-number': mutateSlot(
      op,
      draft,
      (s) => s.schema.type === 'integer' || s.schema.type === 'number' || s.where !== 'path',
      () => fc.constantFrom(...HUGE_NUMBERS).map((n) => new Raw(n)),
    ),
    'bad-uuid': mutateSlot(
      op,
      draft,
      (s) => s.schema.format === 'uuid',
      () => fc.constantFrom(...BAD_UUIDS),
    ),
    'bad-cursor': mutateSlot(
      op,
      draft,
      (s) => s.key[0] === 'cursor',
      () => fc.constantFrom(...BAD_CURSORS),
    ),
    'bad-path': mutateSlot(
      op,
      draft,
      (s) => s.where === 'path',
      () => fc.constantFrom(...BAD_PATH_SEGMENTS).map((p) => new Raw(p)),
    ),
    'duplicate-headers': fc
      .constantFrom('authorization', 'content-type', 'idempotency-key', 'prefer', 'x-request-id')
      .chain((name) => fc.tuple(fc.constant(name), fc.constantFrom('wait=1', 'text/plain', 'Bearer cdn_x', 'dup-1', 'application/json')))
      .map(([name, value]): [Draft, string] => {
        const first = draft.headers.find(([n]) => n === name);
        return [{ ...draft, headers: [...draft.headers, ...(first ? [] : [[name, value] as [string, string]]), [name, value]] }, `header ${name}`];
      }),
    'wrong-content-type': fc
      .constantFrom(...WRONG_CONTENT_TYPES, null)
      .map((contentType): [Draft, string] => [{ ...draft, contentType, body: draft.body ?? 'x=1' }, `content-type ${contentType}`]),
  };
  if (op.body) {
    const required = (op.body.required ?? []).filter((k) => draft.body && typeof draft.body === 'object' && k in (draft.body as object));
    if (required.length > 0) out['missing-field'] = fc.constantFrom(...required).map((k): [Draft, string] => [deleteAt(draft, [k]), `body.${k}`]);
    out['extra-field'] = fc
      .tuple(fc.constantFrom('__proto__', 'constructor', 'unknownField', 'id', 'status', 'createdAt', 'roles'), fc.jsonValue({ maxDepth: 2 }))
      .map(([k, v]): [Draft, string] => {
        const body = { ...((draft.body as Record<string, unknown>) ?? {}) };
        Object.defineProperty(body, k, { value: v, enumerable: true, configurable: true, writable: true });
        return [{ ...draft, body }, `body.${k}`];
      });
    out['deep-nesting'] = fc
      .tuple(fc.constantFrom(33, 64, 500, 5000, 50_000), fc.constantFrom<'array' | 'object'>('array', 'object'), fc.boolean())
      .map(([depth, shape, inField]): [Draft, string] => {
        const firstKey = Object.keys(op.body?.properties ?? {})[0] ?? 'a';
        return [
          { ...draft, rawBody: inField ? `{"${firstKey}":${nested(depth, shape)}}` : nested(depth, shape) },
          `${inField ? `body.${firstKey}` : 'body'} depth ${depth} ${shape}`,
        ];
      });
    out['malformed-json'] = fc
      .constantFrom('{', '{"a":', '[1,]', '{"a":1}}', '\ufeff{}', 'nul', '', '{"a":"\\x00"}', '{"a":"\\ud800"}', "{'a':1}")
      .map((rawBody): [Draft, string] => [{ ...draft, rawBody }, JSON.stringify(rawBody)]);
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as Partial<Record<MutationKind, fc.Arbitrary<[Draft, string]>>>;
}

/** Percent-encodes every UTF-16 code unit, lone surrogates included (as the bytes a lax encoder would send). */
export function encodeSegment(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(text.slice(i, i + 2));
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else {
      out += encodeURIComponent(text[i]);
    }
  }
  return out;
}

function serializeBody(body: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(body, (_k, v: unknown) => {
    if (v instanceof Raw) {
      raws.push(v.text);
      return `\u0001RAW${raws.length - 1}\u0001`;
    }
    return v;
  });
  return text.replace(/"\\u0001RAW(\d+)\\u0001"/g, (_m, i: string) => raws[Number(i)]);
}

function toRequest(op: Operation, kind: MutationKind, detail: string, draft: Draft): FuzzRequest {
  // A Raw in a path or query slot was put there already encoded (a hostile encoding is the point).
  const rawSegments = new Set(kind === 'bad-path' ? [detail.split('.').slice(1).join('.')] : []);
  const path = op.path.replace(/\{(\w+)\}/g, (_m, name: string) =>
    rawSegments.has(name) ? draft.pathParams[name] : encodeSegment(draft.pathParams[name] ?? ''),
  );
  const query = Object.entries(draft.query)
    .map(([k, v]) => `${encodeSegment(k)}=${encodeSegment(v)}`)
    .join('&');
  const headers = [...draft.headers];
  let body: Buffer | undefined;
  const bodyText = draft.rawBody ?? (draft.body === undefined ? undefined : typeof draft.body === 'string' ? draft.body : serializeBody(draft.body));
  if (bodyText !== undefined) {
    body = Buffer.from(bodyText, 'utf8');
    if (draft.contentType !== null) headers.push(['content-type', draft.contentType ?? 'application/json']);
    headers.push(['content-length', String(body.length)]);
  } else if (op.method !== 'GET') {
    headers.push(['content-length', '0']); // no body, said so (Node would send an empty chunked one)
  }
  return { kind, detail, method: op.method, path: query ? `${path}?${query}` : path, headers, body };
}

/** Requests for `op`: about a quarter valid, the rest one mutation each. */
export function requestsFor(op: Operation, known: KnownValues): fc.Arbitrary<FuzzRequest> {
  const key = `${op.method} ${op.path}`;
  const param = (p: Parameter): fc.Arbitrary<string> => {
    const pool = known.byOperation[key]?.[p.name] ?? known.byName[p.name];
    const generated = valueOf(p.schema).map((v) => String(v));
    return pool && pool.length > 0 ? fc.oneof({ arbitrary: fc.constantFrom(...pool), weight: 4 }, { arbitrary: generated, weight: 1 }) : generated;
  };
  const pathParams = fc.record(Object.fromEntries(op.parameters.filter((p) => p.in === 'path').map((p) => [p.name, param(p)])));
  const queryParams = op.parameters.filter((p) => p.in === 'query' && p.name !== 'cursor');
  const query = fc.record(Object.fromEntries(queryParams.map((p) => [p.name, param(p)])), {
    requiredKeys: queryParams.filter((p) => p.required).map((p) => p.name),
  });
  const headerParams = op.parameters.filter((p) => p.in === 'header');
  const headerValue = (name: string): fc.Arbitrary<string> =>
    name === 'Prefer' ? fc.constantFrom('wait=0', 'wait=1', 'return=minimal') : fc.stringMatching(/^[A-Za-z0-9._-]{1,40}$/);
  const headers = fc.record(Object.fromEntries(headerParams.map((p) => [p.name.toLowerCase(), headerValue(p.name)])), { requiredKeys: [] });
  const body = op.body ? (op.bodyRequired ? valueOf(op.body) : fc.option(valueOf(op.body), { nil: undefined })) : fc.constant(undefined);
  const drafts = fc.record({ pathParams, query, headers, body }).map(({ pathParams, query, headers, body }): Draft => ({
    pathParams,
    query: query as Record<string, string>,
    headers: Object.entries(headers as Record<string, string>),
    body,
  }));
  return drafts.chain((draft) => {
    const mutations = mutationsOf(op, draft);
    const kinds = Object.keys(mutations) as MutationKind[];
    const valid = fc.constant(toRequest(op, 'valid', '', draft));
    const mutated = fc.constantFrom(...kinds).chain((kind) => mutations[kind]!.map(([d, detail]) => toRequest(op, kind, detail, d)));
    return fc.oneof({ arbitrary: valid, weight: 1 }, { arbitrary: mutated, weight: 3 });
  });
}
