import { decodeCursor, encodeCursor, toPage } from './paging';
import { Problem } from './problem';

describe('keyset paging', () => {
  it('round-trips a cursor and rejects one of the wrong shape', () => {
    const cursor = encodeCursor(['2026-01-01T00:00:00.000Z', 'id-1']);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, 2)).toEqual(['2026-01-01T00:00:00.000Z', 'id-1']);
    expect(() => decodeCursor(cursor, 3)).toThrow(Problem);
    expect(() => decodeCursor('bm90LWpzb24', 2)).toThrow(Problem);
    expect(decodeCursor(undefined, 2)).toBeUndefined();
  });

  it('builds a page from limit + 1 rows', () => {
    const rows = [1, 2, 3].map((n) => ({ n }));
    const page = toPage(
      rows,
      2,
      (r) => [r.n],
      (r) => r.n * 10,
    );
    expect(page.items).toEqual([10, 20]);
    expect(decodeCursor(page.nextCursor!, 1)).toEqual([2]);
    expect(
      toPage(
        rows,
        3,
        (r) => [r.n],
        (r) => r.n,
      ).nextCursor,
    ).toBeNull();
  });
});
