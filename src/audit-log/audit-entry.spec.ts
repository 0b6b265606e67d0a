import { createHash } from 'node:crypto';
import { canonicalEntryJson, canonicalJson, chainHash, chainHashHex, GENESIS_HASH, GENESIS_HASH_HEX, hashedFields, normalizeData } from './audit-entry';
import { csvCell } from './audit-log-exporter';

describe('canonical JSON', () => {
  it('sorts keys at every level, drops undefined members, keeps arrays in order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined }, e: null })).toBe('{"a":{"d":[3,{"y":2,"z":1}]},"b":1,"e":null}');
    expect(canonicalJson('é"\n')).toBe(JSON.stringify('é"\n'));
    expect(canonicalJson(new Date('2026-01-02T03:04:05.678Z'))).toBe('"2026-01-02T03:04:05.678Z"');
  });

  it('gives the same bytes for the same value whatever the key order', () => {
    expect(canonicalJson({ x: 1, y: { b: 2, a: 1 } })).toBe(canonicalJson({ y: { a: 1, b: 2 }, x: 1 }));
  });
});

describe('chainHash', () => {
  const entry = {
    seq: 1,
    at: '2026-11-26T00:00:00.000Z',
    event: 'api-key.created',
    actor: { type: 'system' as const, id: 'bootstrap', name: 'b' },
    tenantId: null,
    actionId: null,
    subject: 'api-key:1',
    requestId: 'r',
    data: { roles: ['admin'] },
  };

  it('is SHA-256(prevHash ‖ canonical JSON of the entry)', () => {
    const expected = createHash('sha256').update(GENESIS_HASH).update(canonicalJson(entry)).digest();
    expect(chainHash(GENESIS_HASH, entry).equals(expected)).toBe(true);
  });

  it('writes the entry out exactly as the general canonical form would, whatever its values', () => {
    const variants = [
      entry,
      { ...entry, tenantId: 'a5c1e2b3-1111-4222-8333-944455566677', actionId: 'b5c1e2b3-1111-4222-8333-944455566677', subject: null },
      {
        ...entry,
        actor: { type: 'apiKey' as const, id: 'cdn_AB"C', name: 'ünïcode \u2028 "quoted"\n' },
        data: { z: [1, { b: null, a: 'x' }], a: 1.5, é: true },
      },
      { ...entry, seq: 9_007_199_254_740_991, data: {} },
    ];
    for (const variant of variants) {
      expect(canonicalEntryJson(variant)).toBe(canonicalJson(hashedFields(variant)));
      expect(chainHashHex(GENESIS_HASH_HEX, variant)).toBe(chainHash(GENESIS_HASH, variant).toString('hex'));
    }
  });

  it('changes with any field or with the previous hash', () => {
    const base = chainHash(GENESIS_HASH, entry);
    expect(chainHash(GENESIS_HASH, { ...entry, data: { roles: ['auditor'] } }).equals(base)).toBe(false);
    expect(chainHash(GENESIS_HASH, { ...entry, seq: 2 }).equals(base)).toBe(false);
    expect(chainHash(Buffer.alloc(32, 1), entry).equals(base)).toBe(false);
  });

  it('normalizes data to what jsonb gives back', () => {
    expect(normalizeData({ when: new Date('2026-01-01T00:00:00Z'), gone: undefined, n: 1.0 })).toEqual({ when: '2026-01-01T00:00:00.000Z', n: 1 });
  });
});

describe('csvCell', () => {
  it('quotes per RFC 4180 and defuses spreadsheet formulas', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,"b"\nc')).toBe('"a,""b""\nc"');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell(null)).toBe('');
    expect(csvCell({ a: 1 })).toBe('"{""a"":1}"');
  });
});
