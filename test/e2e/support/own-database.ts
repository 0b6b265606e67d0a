import { Client } from 'pg';

export interface OwnDatabase {
  /** The database's URL; undefined without DATABASE_URL (the suite then runs on PGlite). */
  url: string | undefined;
  drop(): Promise<void>;
}

/**
 * A PostgreSQL database of the suite's own next to the run's (for suites that restart Cordon on the
 * same data and must not find other suites' rows), made on the server of DATABASE_URL.
 */
export async function createOwnDatabase(prefix: string): Promise<OwnDatabase> {
  const base = process.env.DATABASE_URL;
  if (!base) return { url: undefined, drop: async () => undefined };
  const name = `${prefix}_${Date.now()}`;
  const run = async (sql: string) => {
    const client = new Client({ connectionString: base });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
