import { findUnsafeInput, MAX_JSON_DEPTH, unsafeInputErrors, unsafeStringReason } from './safe-input';

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
}

describe('safe input', () => {
  it('refuses NUL and unpaired surrogates, and takes paired ones, emoji and right-to-left text', () => {
    expect(unsafeStringReason('a\u0000b')).toBe('must not contain NUL characters');
    for (const lone of ['\ud800', 'x\ud800', '\udc00x', '\udc00\ud800', 'a\ud83d'])
      expect(unsafeStringReason(lone)).toBe('must not contain unpaired surrogates');
    for (const fine of ['', 'plain', '😀', 'a\ud83d\ude00b', 'שלום', '\u202eevil', 'tab\tnewline\n']) expect(unsafeStringReason(fine)).toBeUndefined();
  });

  it('names the field as validation errors do: dotted, with array indexes', () => {
    expect(findUnsafeInput({ credential: { secret: 'x\u0000' } }, 'body')).toEqual({ field: 'credential.secret', message: 'must not contain NUL characters' });
    expect(findUnsafeInput({ tenantIds: ['ok', '\ud800'] }, 'body')).toEqual({ field: 'tenantIds.1', message: 'must not contain unpaired surrogates' });
    expect(findUnsafeInput('\u0000', 'body')).toEqual({ field: 'body', message: 'must not contain NUL characters' });
    expect(findUnsafeInput({ ok: 1, fine: [true, null, 2.5, 'text'] }, 'body')).toBeUndefined();
  });

  it('refuses a bad field name, escaped so the answer stays printable', () => {
    expect(findUnsafeInput({ hourlyLimits: { 'a\u0000': 1 } }, 'body')).toEqual({
      field: 'hourlyLimits.a\\u0000',
      message: 'is a field name that must not contain NUL characters',
    });
  });

  it(`caps nesting at ${MAX_JSON_DEPTH} levels, and walks far deeper input without overflowing the stack`, () => {
    expect(findUnsafeInput(nested(MAX_JSON_DEPTH), 'body')).toBeUndefined();
    expect(findUnsafeInput(nested(MAX_JSON_DEPTH + 1), 'body')?.message).toBe(`nests deeper than ${MAX_JSON_DEPTH} levels`);
    const deep = JSON.parse('['.repeat(200000) + ']'.repeat(200000));
    expect(findUnsafeInput(deep, 'body')?.message).toBe(`nests deeper than ${MAX_JSON_DEPTH} levels`);
  });

  it('checks path, query, body and the Idempotency-Key header together', () => {
    const errors = unsafeInputErrors({ params: { user: 'a\u0000' }, query: { actor: '\udfff' }, body: { name: 'ok' }, headers: { 'idempotency-key': '' } });
    expect(errors.map((e) => e.field)).toEqual(['user', 'actor', 'Idempotency-Key']);
    expect(unsafeInputErrors({ params: {}, query: {}, body: undefined, headers: { 'idempotency-key': 'run-1' } })).toEqual([]);
  });
});
