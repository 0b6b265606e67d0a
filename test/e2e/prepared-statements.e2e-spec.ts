import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/database/data-source';

const postgres = Boolean(process.env.DATABASE_URL);

/** What this connection has prepared, by statement text. */
async function preparedOnConnection(
  dataSource: DataSource,
  run: (query: (sql: string, params?: unknown[]) => Promise<unknown[]>) => Promise<void>,
): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  try {
    await run((sql, params) => runner.query(sql, params) as Promise<unknown[]>);
    const rows: Array<{ statement: string }> = await runner.query('SELECT statement FROM pg_prepared_statements');
    return rows.map((r) => r.statement);
  } finally {
    await runner.release();
  }
}

describe('prepared statements on PostgreSQL', () => {
  let dataSources: DataSource[] = [];
  const open = async (databasePreparedStatements?: boolean) => {
    const dataSource = await createDataSource({
      databaseUrl: process.env.DATABASE_URL,
      dataDir: '',
      databasePoolMax: 1,
      databasePreparedStatements,
    }).initialize();
    dataSources.push(dataSource);
    return dataSource;
  };

  afterEach(async () => {
    await Promise.all(dataSources.map((d) => d.destroy()));
    dataSources = [];
  });

  (postgres ? it : it.skip)('prepares a parameterized statement from its third run, with the same results', async () => {
    const dataSource = await open();
    const sql = 'SELECT $1::int + 1 AS n, $2::text AS label';
    const results: unknown[] = [];
    const prepared = await preparedOnConnection(dataSource, async (query) => {
      for (let i = 0; i < 5; i += 1) results.push(...(await query(sql, [i, `run ${i}`])));
      await query('SELECT $1::text AS once', ['x']);
      await query('SELECT 42 AS no_parameters');
    });
    expect(results).toEqual([0, 1, 2, 3, 4].map((i) => ({ n: i + 1, label: `run ${i}` })));
    expect(prepared).toEqual([sql]);
  });

  (postgres ? it : it.skip)("a statement that fails keeps failing with PostgreSQL's error, and the connection stays usable", async () => {
    const dataSource = await open();
    const bad = 'SELECT 1 / $1::int AS n';
    const prepared = await preparedOnConnection(dataSource, async (query) => {
      for (let i = 0; i < 4; i += 1) await expect(query(bad, [0])).rejects.toThrow(/division by zero/);
      await expect(query(bad, [1])).resolves.toEqual([{ n: 1 }]);
    });
    expect(prepared).toEqual([bad]);
  });

  (postgres ? it : it.skip)('prepares nothing when CORDON_DATABASE_PREPARED_STATEMENTS is off', async () => {
    const dataSource = await open(false);
    const prepared = await preparedOnConnection(dataSource, async (query) => {
      for (let i = 0; i < 5; i += 1) await query('SELECT $1::int AS n', [i]);
    });
    expect(prepared).toEqual([]);
  });
});
