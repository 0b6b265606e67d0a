import { rmSync } from 'node:fs';
import { Client } from 'pg';

export default async function globalTeardown(): Promise<void> {
  const template = process.env.CORDON_TEST_PGLITE_TEMPLATE;
  if (template) rmSync(template, { recursive: true, force: true });
  const admin = process.env.CORDON_TEST_ADMIN_DATABASE_URL;
  const name = process.env.CORDON_TEST_DATABASE_NAME;
  if (!admin || !name) return;
  const client = new Client({ connectionString: admin });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await client.end();
}
