import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { projectRoot } from '../common/project-root';

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

const MIGRATION_FILE = /^\d{4}_[a-z0-9_]+\.sql$/;
/** Any constant works; it keeps two replicas starting together from migrating at once. */
const MIGRATION_LOCK_ID = 72_616_401;

export function readMigrations(dir = join(projectRoot(), 'migrations')): Migration[] {
  return readdirSync(dir)
    .filter((file) => MIGRATION_FILE.test(file))
    .sort()
    .map((file) => {
      const sql = readFileSync(join(dir, file), 'utf8');
      return { name: file, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/**
 * Applies the plain-SQL migrations in `migrations/` in order, each in its own transaction, on
 * PostgreSQL and PGlite alike. Applied migrations are recorded with a checksum: editing a committed
 * migration stops the start instead of leaving two databases with different schemas.
 */
export async function runMigrations(dataSource: DataSource, migrations = readMigrations()): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  const applied: string[] = [];
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    await runner.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const rows: Array<{ name: string; checksum: string }> = await runner.query('SELECT name, checksum FROM schema_migrations');
    const done = new Map(rows.map((r) => [r.name, r.checksum]));
    for (const migration of migrations) {
      const checksum = done.get(migration.name);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) {
          throw new Error(`migration ${migration.name} was changed after it was applied; add a new migration instead`);
        }
        continue;
      }
      await runner.startTransaction();
      try {
        await runner.query(migration.sql);
        await runner.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [migration.name, migration.checksum]);
        await runner.commitTransaction();
      } catch (error) {
        await runner.rollbackTransaction();
        throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`);
      }
      applied.push(migration.name);
    }
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    await runner.release();
  }
  return applied;
}
