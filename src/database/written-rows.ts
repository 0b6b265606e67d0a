/** Rows a `RETURNING` write touched: TypeORM answers `[rows, count]` on PostgreSQL and rows on PGlite. */
export function countRows(result: unknown): number {
  if (!Array.isArray(result)) return 0;
  if (result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[1];
  return result.length;
}
