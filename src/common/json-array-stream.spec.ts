import { Readable } from 'node:stream';
import { JsonArraySplitter, JsonArrayStreamError, jsonArrayElements } from './json-array-stream';

/** Feeds `text` in chunks of `size` bytes (cutting multi-byte characters too) and collects the parsed elements. */
function split(text: string | Buffer, size: number): unknown[] {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  const splitter = new JsonArraySplitter();
  const out: unknown[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...splitter.push(bytes.subarray(i, i + size)).map((e) => JSON.parse(e) as unknown));
  splitter.end();
  return out;
}

const SAMPLE = [
  {
    Id: 'a',
    Operation: 'UserLoggedIn',
    Nested: { list: [1, 2, { deep: ['x', 'y]'] }], empty: {} },
    Text: 'brackets ] } [ { and "quotes" and \\ backslashes \\" and commas ,',
  },
  { Id: 'b', Unicode: 'Zoë — 日本語 — 🔐', Escaped: '\u0001\n\t\\' },
  [],
  {},
  'a string, with ] inside',
  42.5e-3,
  -7,
  true,
  false,
  null,
  [['nested'], { a: [] }],
];

describe('JsonArraySplitter', () => {
  it.each([1, 2, 3, 7, 64, 1 << 20])('splits every kind of element at any chunk size (%i bytes)', (size) => {
    expect(split(JSON.stringify(SAMPLE), size)).toEqual(SAMPLE);
    expect(split(JSON.stringify(SAMPLE, null, 2), size)).toEqual(SAMPLE); // whitespace and newlines between tokens
  });

  it('answers elements as soon as they are complete', () => {
    const splitter = new JsonArraySplitter();
    expect(splitter.push(Buffer.from('[{"a":1},{"b"'))).toEqual(['{"a":1}']);
    expect(splitter.push(Buffer.from(':2}, 3'))).toEqual(['{"b":2}']);
    expect(splitter.push(Buffer.from(']'))).toEqual(['3']);
    splitter.end();
  });

  it('keeps element text as sent, so it can be stored verbatim', () => {
    expect(new JsonArraySplitter().push(Buffer.from('[ {"n": 12345678901234567890, "s" : "x"} ]'))).toEqual(['{"n": 12345678901234567890, "s" : "x"}']);
  });

  it('accepts an empty array, surrounding whitespace and a UTF-8 byte order mark', () => {
    expect(split(' \r\n[ ]\n', 1)).toEqual([]);
    expect(split('[]', 5)).toEqual([]);
    expect(split(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[{"a":1}]')]), 1)).toEqual([{ a: 1 }]);
  });

  it.each([
    ['', 'the document is empty'],
    ['{"a":1}', 'not a JSON array'],
    ['"text"', 'not a JSON array'],
    ['[{"a":1}', 'ends early'],
    ['[{"a":1},', 'ends early'],
    ['[{"a":"unterminated', 'ends early'],
    ['[,{"a":1}]', 'expected an element'],
    ['[{"a":1},]', 'expected an element'],
    ['[{"a":1},,{"b":2}]', 'expected an element'],
    ['[{"a":1} {"b":2}]', 'expected "," or "]"'],
    ['[{"a":1}] x', 'after the end of the array'],
    ['[1][2]', 'after the end of the array'],
    ['x[1]', 'not a JSON array'],
    [Buffer.from([0x20, 0xef, 0xbb, 0xbf, 0x5b, 0x5d]).toString('latin1'), 'not a JSON array'], // a BOM only counts first
  ])('refuses %j', (text, message) => {
    expect(() => split(Buffer.from(text, 'latin1'), 3)).toThrow(JsonArrayStreamError);
    expect(() => split(Buffer.from(text, 'latin1'), 3)).toThrow(message);
  });

  it("leaves an element's own syntax to JSON.parse", () => {
    const [bad] = new JsonArraySplitter().push(Buffer.from('[{"a":tru}]'));
    expect(bad).toBe('{"a":tru}');
    expect(() => JSON.parse(bad)).toThrow(SyntaxError);
  });

  it('refuses an element larger than the limit, whether it arrives in one chunk or many', () => {
    const big = `[${JSON.stringify({ pad: 'x'.repeat(100) })}]`;
    expect(() => new JsonArraySplitter({ maxElementBytes: 50 }).push(Buffer.from(big))).toThrow('exceeds 50 bytes');
    const splitter = new JsonArraySplitter({ maxElementBytes: 50 });
    expect(() => {
      for (let i = 0; i < big.length; i += 10) splitter.push(Buffer.from(big.slice(i, i + 10)));
    }).toThrow('exceeds 50 bytes');
    expect(split(big, 10)).toEqual([{ pad: 'x'.repeat(100) }]); // the default limit is far above
  });
});

describe('JsonArraySplitter.pushBytes', () => {
  it("answers each element's UTF-8 bytes, a character cut between chunks included", () => {
    const text = JSON.stringify([{ a: 'Zoë 🔐' }, 'x', { b: [1, 2] }]);
    const bytes = Buffer.from(text, 'utf8');
    const splitter = new JsonArraySplitter();
    const elements: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 5) elements.push(...splitter.pushBytes(bytes.subarray(i, i + 5)));
    splitter.end();
    expect(elements.every((e) => Buffer.isBuffer(e))).toBe(true);
    expect(elements.map((e) => JSON.parse(e.toString('utf8')) as unknown)).toEqual([{ a: 'Zoë 🔐' }, 'x', { b: [1, 2] }]);
  });

  it('keeps the bytes of an element split across chunks apart from the chunks (they may be reused)', () => {
    const splitter = new JsonArraySplitter();
    const first = Buffer.from('[{"a":');
    expect(splitter.pushBytes(first)).toEqual([]);
    first.fill(0x20); // the caller reuses its buffer
    expect(splitter.pushBytes(Buffer.from('1}]')).map((e) => e.toString())).toEqual(['{"a":1}']);
    splitter.end();
  });
});

describe('jsonArrayElements', () => {
  it('reads a byte stream and fails at its end when the array is not closed', async () => {
    const texts: string[] = [];
    for await (const text of jsonArrayElements(Readable.from([Buffer.from('[{"a":'), Buffer.from('1},{"b":2}]')]))) texts.push(text);
    expect(texts).toEqual(['{"a":1}', '{"b":2}']);

    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const text of jsonArrayElements(Readable.from([Buffer.from('[{"a":1},{"b"')]))) seen.push(text);
      })(),
    ).rejects.toThrow('ends early');
    expect(seen).toEqual(['{"a":1}']); // what was complete was handed over before the failure
  });
});
