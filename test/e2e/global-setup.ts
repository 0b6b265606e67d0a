import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createDataSource } from '../../src/database/data-source';
import { runMigrations } from '../../src/database/migrator';

/**
 * With DATABASE_URL set, the e2e suite runs on a fresh PostgreSQL database made for this run and
 * migrated once (each app start then finds nothing to apply). Without it, each app start opens its own
 * embedded PGlite database: a copy of one made and migrated here, once (creating a PGlite cluster costs
 * seconds of CPU per start; copying one, a fraction of a second).
 */
export default async function globalSetup(): Promise<void> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    const dir = mkdtempSync(join(tmpdir(), 'cordon-pglite-template-'));
    const template = await createDataSource({ databaseUrl: '', dataDir: dir, databasePoolMax: 1 }).initialize();
    await runMigrations(template);
    await template.destroy();
    process.env.CORDON_TEST_PGLITE_TEMPLATE = dir;
    return;
  }
  const name = `cordon_test_${Date.now()}_${process.pid}`;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  process.env.CORDON_TEST_ADMIN_DATABASE_URL = base;
  process.env.CORDON_TEST_DATABASE_NAME = name;
  process.env.DATABASE_URL = url.toString();
  const dataSource = await createDataSource({ databaseUrl: url.toString(), dataDir: '', databasePoolMax: 2 }).initialize();
  await runMigrations(dataSource);
  await dataSource.destroy();
}
