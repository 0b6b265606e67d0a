import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { RunningSimulator } from '../m365-simulator/src';
import type { NormalizedEvent } from '../../src/collection/collector';
import { EventsRepository } from '../../src/collection/events.repository';
import { normalizeRecord } from '../../src/integrations/management-activity/normalize';
import { registerSimTenant, simEnv, startDemoSimulator } from './support/sim-tenant';
import { startTestApp, TestApp } from './support/test-app';

/**
 * The events insert, which takes COPY on PostgreSQL and multi-row INSERTs on PGlite: records go in
 * byte for byte whatever characters COPY's text format treats specially, duplicates are skipped and
 * counted, two batches in one transaction each insert only their own rows, and a rollback stores
 * nothing.
 */

const postgres = Boolean(process.env.DATABASE_URL);
const STREAM = 'copy-path-test';

describe('events insert: COPY on PostgreSQL, multi-row on PGlite', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let tenantId: string;
  let db: DataSource;
  let events: EventsRepository;

  beforeAll(async () => {
    sim = await startDemoSimulator();
    t = await startTestApp({ ...simEnv(sim), CORDON_WORKERS: 'false' });
    tenantId = await registerSimTenant(t, sim, 'Contoso Demo');
    db = t.app.get(DataSource);
    events = t.app.get(EventsRepository);
  });
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
  });

  const key = () => ({ tenantId, source: 'management-activity', stream: STREAM });
  const event = (record: Record<string, unknown>, text = JSON.stringify(record)): NormalizedEvent =>
    normalizeRecord(record, 'Audit.Exchange', new Date(), text);

  it('stores raw records exactly, tabs, newlines, backslashes and \\N look-alikes included', async () => {
    const odd = {
      Id: randomUUID(),
      CreationTime: '2026-03-04T09:10:00',
      Operation: 'New-InboxRule',
      ObjectId: 'alice@contoso.com\\Forward all',
      UserId: 'Alice@Contoso.com',
      ClientIP: '[2001:db8::1]:443',
      Note: 'tab\there, newline\nthere, carriage\rreturn, \\N, \\\\, quote " and Zoë 🔐',
    };
    // As a blob may deliver it: whitespace between tokens (tabs, newlines) that COPY must not take as separators.
    const pretty = `{\n\t"Id": "${odd.Id as string}",\r\n\t"CreationTime": "2026-03-04T09:10:00",\n\t"Operation": "FileAccessed",\t"ObjectId": null, "UserId": "\\\\N"\n}`;
    const plain = { Id: randomUUID(), CreationTime: '2026-03-04T09:11:00', Operation: 'MailItemsAccessed' };
    const prettyId = randomUUID();
    const batch = [
      event(odd),
      event(JSON.parse(pretty.replace(odd.Id as string, prettyId)) as Record<string, unknown>, pretty.replace(odd.Id as string, prettyId)),
      event(plain),
    ];

    const stored = await db.transaction((manager) => events.insert(manager, key(), batch));
    expect(stored).toMatchObject({ inserted: 3, duplicates: 0, newest: new Date('2026-03-04T09:11:00Z') });

    const rows: Array<{ record_id: string; raw: unknown; object_id: string | null; user_id: string | null; client_ip: string | null; occurred_at: Date }> =
      await db.query(
        `SELECT record_id, raw, object_id, user_id, host(client_ip) AS client_ip, occurred_at FROM events WHERE tenant_id = $1 AND stream = $2 AND record_id = ANY($3::text[])`,
        [tenantId, STREAM, batch.map((e) => e.recordId)],
      );
    const byId = new Map(rows.map((r) => [r.record_id, r]));
    expect(byId.get(odd.Id.toLowerCase())).toMatchObject({
      raw: odd,
      object_id: 'alice@contoso.com\\Forward all',
      user_id: 'alice@contoso.com',
      client_ip: '2001:db8::1',
      occurred_at: new Date('2026-03-04T09:10:00Z'),
    });
    expect(byId.get(prettyId)).toMatchObject({ raw: JSON.parse(pretty.replace(odd.Id as string, prettyId)), object_id: null, user_id: '\\n' });
    expect(byId.get(plain.Id)).toMatchObject({ raw: plain, object_id: null, user_id: null });
  });

  it('skips and counts records already stored, and keeps two batches of one transaction apart', async () => {
    const first = [1, 2, 3].map((i) => event({ Id: randomUUID(), CreationTime: `2026-03-04T09:2${i}:00`, Operation: 'UserLoggedIn' }));
    const second = [event({ Id: randomUUID(), CreationTime: '2026-03-04T09:30:00', Operation: 'UserLoggedIn' }), first[0], first[0]];
    const outcomes = await db.transaction(async (manager) => [await events.insert(manager, key(), first), await events.insert(manager, key(), second)]);
    expect(outcomes).toEqual([
      { inserted: 3, duplicates: 0, newest: new Date('2026-03-04T09:23:00Z') },
      { inserted: 1, duplicates: 2, newest: new Date('2026-03-04T09:30:00Z') },
    ]);
    const [{ count }]: Array<{ count: number }> = await db.query(
      `SELECT count(*)::int AS count FROM events WHERE tenant_id = $1 AND stream = $2 AND record_id = ANY($3::text[])`,
      [tenantId, STREAM, [...first, ...second].map((e) => e.recordId)],
    );
    expect(count).toBe(4);
  });

  it('stores nothing when the transaction rolls back', async () => {
    const lost = event({ Id: randomUUID(), CreationTime: '2026-03-04T09:40:00', Operation: 'UserLoggedIn' });
    await expect(
      db.transaction(async (manager) => {
        await events.insert(manager, key(), [lost]);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    const rows: unknown[] = await db.query(`SELECT 1 FROM events WHERE tenant_id = $1 AND record_id = $2`, [tenantId, lost.recordId]);
    expect(rows).toHaveLength(0);
    // The connection is fine afterwards (its staging table too, if the rollback took it away).
    const again = await db.transaction((manager) => events.insert(manager, key(), [lost]));
    expect(again).toMatchObject({ inserted: 1, duplicates: 0 });
  });

  it('takes COPY (through its staging table) on PostgreSQL and the multi-row insert on PGlite', async () => {
    const staging = await db.transaction(async (manager) => {
      await manager.query('DROP TABLE IF EXISTS pg_temp.events_staging');
      expect(await events.insert(manager, key(), [event({ Id: randomUUID(), CreationTime: '2026-03-04T09:50:00' })])).toMatchObject({
        inserted: 1,
        duplicates: 0,
      });
      const [{ table }]: Array<{ table: string | null }> = await manager.query(`SELECT to_regclass('pg_temp.events_staging')::text AS table`);
      return table;
    });
    expect(staging).toBe(postgres ? 'events_staging' : null);
  });
});
