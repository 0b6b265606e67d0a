import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { canonicalJson } from '../../src/audit-log/audit-entry';
import { AuditLogRepository } from '../../src/audit-log/audit-log.repository';
import { AuditLogService } from '../../src/audit-log/audit-log.service';
import { RefusalRecorder } from '../../src/audit-log/refusal-recorder';
import { bearer, createKey, expectProblem, startTestApp, TestApp } from './support/test-app';

const SYSTEM = { type: 'system' as const, id: 'e2e', name: 'e2e test' };

describe('the action log', () => {
  let t: TestApp;
  let log: AuditLogService;
  let db: DataSource;
  beforeAll(async () => {
    t = await startTestApp();
    log = t.app.get(AuditLogService);
    db = t.app.get(DataSource);
  });
  afterAll(() => t.close());

  const headSeq = async () => Number((await db.query('SELECT seq FROM audit_chain_head'))[0].seq);
  const asSuperuser = async (sql: string, params: unknown[] = []) => {
    // what an operator with superuser rights could do: switch the trigger off, change rows, switch it on
    await db.transaction(async (m) => {
      await m.query('ALTER TABLE audit_log DISABLE TRIGGER USER');
      await m.query(sql, params);
      await m.query('ALTER TABLE audit_log ENABLE TRIGGER USER');
    });
  };

  it('records API key creation and revocation with actor, subject and request id', async () => {
    // The database is shared with the other suites (thousands of entries): read only what this test wrote.
    const since = new Date(Date.now() - 5_000).toISOString();
    const created = await t.http
      .post('/v1/api-keys')
      .set(bearer(t.adminKey))
      .set('X-Request-Id', 'rq-create-1')
      .send({ name: 'audited', roles: ['auditor'] });
    await t.http.delete(`/v1/api-keys/${created.body.id}`).set(bearer(t.adminKey)).set('X-Request-Id', 'rq-revoke-1').expect(204);
    const res = await t.http.get(`/v1/audit-log?limit=1000&since=${since}`).set(bearer(t.adminKey)).expect(200);
    const createdEntry = res.body.items.find((e: { requestId: string }) => e.requestId === 'rq-create-1');
    const revokedEntry = res.body.items.find((e: { requestId: string }) => e.requestId === 'rq-revoke-1');
    expect(createdEntry).toMatchObject({
      event: 'api-key.created',
      actor: { type: 'apiKey' },
      subject: `api-key:${created.body.id}`,
      data: { name: 'audited', roles: ['auditor'] },
    });
    expect(revokedEntry).toMatchObject({ event: 'api-key.revoked', subject: `api-key:${created.body.id}` });
    expect(revokedEntry.seq).toBeGreaterThan(createdEntry.seq);
    expect(JSON.stringify(res.body)).not.toContain(created.body.key);
    expect(createdEntry.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps one valid, gap-free chain under 8 concurrent writers', async () => {
    const before = await headSeq();
    await Promise.all(
      Array.from({ length: 8 }, (_, writer) =>
        (async () => {
          for (let i = 0; i < 15; i++) await log.record({ event: 'test.concurrent', actor: SYSTEM, requestId: `w${writer}-${i}`, data: { writer, i } });
        })(),
      ),
    );
    expect(await headSeq()).toBe(before + 120);
    const seqs = (await db.query('SELECT seq FROM audit_log WHERE seq > $1 ORDER BY seq', [before])).map((r: { seq: string }) => Number(r.seq));
    expect(seqs).toEqual(Array.from({ length: 120 }, (_, i) => before + 1 + i));
    expect(await log.verify()).toMatchObject({ ok: true, checked: before + 120, lastSeq: before + 120 });
  });

  it('verify from past the head (even past what a bigint holds) reports the missing entry before it', async () => {
    const head = await headSeq();
    expect(await log.verify(head + 5)).toMatchObject({ ok: false, firstBadSeq: head + 4, reason: 'the entry before the range is missing' });
    expect(await log.verify(2 ** 64)).toMatchObject({ ok: false, reason: 'the entry before the range is missing' });
  });

  it('verifies entries whose text needs escaping in every field', async () => {
    const tricky = 'q"uote \\ back\\slash \n\r\t\b\f \u0001\u001f \u007f é 漢 😀 \u2028\u2029 </script>';
    await log.record({
      event: `test.escaping ${tricky}`,
      actor: { type: 'user', id: `id ${tricky}`, name: `name ${tricky}` },
      tenantId: 'a5c1e2b3-1111-4222-8333-944455566677',
      subject: `subject ${tricky}`,
      requestId: `rq ${tricky}`,
      data: { [`key ${tricky}`]: tricky, nested: [{ b: tricky, a: -1.5e-7 }, null, true, 12345678901234], big: 2 ** 53 - 1 },
    });
    expect(await log.verify()).toMatchObject({ ok: true });
  });

  it('leaves no entry and no gap when the transaction rolls back', async () => {
    const before = await headSeq();
    await expect(
      db.transaction(async (m) => {
        await log.append(m, { event: 'test.rolled-back', actor: SYSTEM, requestId: 'rb' });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const after = await log.record({ event: 'test.after-rollback', actor: SYSTEM, requestId: 'rb2' });
    expect(after.seq).toBe(before + 1);
    expect(await db.query(`SELECT 1 FROM audit_log WHERE event = 'test.rolled-back'`)).toHaveLength(0);
    expect(await db.query(`SELECT 1 FROM audit_pending WHERE event = 'test.rolled-back'`)).toHaveLength(0);
  });

  // Well within the 2 s sweep: a pass that only the sweep started would mostly miss it.
  const sealedWithin = async (event: string, ms: number) => {
    const deadline = Date.now() + ms;
    let rows: unknown[] = [];
    while (Date.now() < deadline && rows.length === 0) {
      rows = await db.query(`SELECT seq FROM audit_log WHERE event = $1`, [event]);
      if (rows.length === 0) await new Promise((r) => setTimeout(r, 10));
    }
    return rows.length;
  };

  it('seals an entry into the chain right after its transaction commits, without waiting for a reader', async () => {
    await db.transaction((m) => log.append(m, { event: 'test.sealed-on-commit', actor: SYSTEM, requestId: 'soc' }));
    expect(await sealedWithin('test.sealed-on-commit', 500)).toBe(1);
    expect(await db.query(`SELECT 1 FROM audit_pending WHERE event = 'test.sealed-on-commit'`)).toHaveLength(0);
  });

  it('appends with a change made in one statement, together or not at all, and seals it right after', async () => {
    const entry = { event: 'test.in-statement', actor: SYSTEM, requestId: 'stmt' };
    await log.appendWith([{ entry }, { entry: { ...entry, event: 'test.in-statement-skipped' }, onlyIf: 'false' }], (insert) => {
      const params: unknown[] = [];
      return db.query(`WITH audit AS (${insert(params)}) SELECT 1`, params);
    });
    expect(await sealedWithin('test.in-statement', 500)).toBe(1);
    expect(await db.query(`SELECT 1 FROM audit_log WHERE event = 'test.in-statement-skipped'`)).toHaveLength(0);
    // a statement that fails writes no entry and answers 503
    await expect(
      log.appendWith([{ entry: { ...entry, event: 'test.in-statement-failed' } }], (insert) => {
        const params: unknown[] = [];
        return db.query(`WITH audit AS (${insert(params)}) SELECT 1/0`, params);
      }),
    ).rejects.toMatchObject({ status: 503, slug: 'audit-log-unavailable' });
    await log.sealed();
    expect(await db.query(`SELECT 1 FROM audit_log WHERE event = 'test.in-statement-failed'`)).toHaveLength(0);
  });

  it('appends several entries of one change in one call, sealed in order', async () => {
    await db.transaction((m) =>
      log.append(m, [
        { event: 'test.batch', actor: SYSTEM, requestId: 'batch', data: { n: 1 } },
        { event: 'test.batch', actor: SYSTEM, requestId: 'batch', data: { n: 2 } },
        { event: 'test.batch', actor: SYSTEM, requestId: 'batch', data: { n: 3 } },
      ]),
    );
    const items = (await t.http.get('/v1/audit-log?event=test.batch').set(bearer(t.adminKey)).expect(200)).body.items;
    expect(items.map((e: { data: { n: number } }) => e.data.n)).toEqual([1, 2, 3]);
    expect(items[0].at).toBe(items[2].at);
  });

  it('refuses to change a pending entry or to remove one that is not sealed yet', async () => {
    // inside the writer's own transaction the entry is certainly not sealed yet
    const attempts: [string, string][] = [];
    await db.transaction(async (m) => {
      await log.append(m, { event: 'test.held', actor: SYSTEM, requestId: 'held' });
      for (const sql of [`UPDATE audit_pending SET event = 'forged' WHERE event = 'test.held'`, `DELETE FROM audit_pending WHERE event = 'test.held'`]) {
        await m.query('SAVEPOINT attempt');
        await m.query(sql).then(
          () => attempts.push([sql, 'allowed']),
          (error: Error) => attempts.push([sql, error.message]),
        );
        await m.query('ROLLBACK TO SAVEPOINT attempt');
      }
    });
    expect(attempts[0][1]).toMatch(/append-only: UPDATE is not allowed/);
    expect(attempts[1][1]).toMatch(/not sealed into audit_log yet/);
    const [sealed] = (await t.http.get('/v1/audit-log?event=test.held').set(bearer(t.adminKey)).expect(200)).body.items;
    expect(sealed).toMatchObject({ event: 'test.held', requestId: 'held' });
  });

  it.each([
    ['UPDATE', 'UPDATE audit_log SET event = $1 WHERE seq = 1', ['forged']],
    ['DELETE', 'DELETE FROM audit_log WHERE seq = 1', []],
    ['TRUNCATE', 'TRUNCATE audit_log', []],
  ])('refuses %s in the database', async (_, sql, params) => {
    await expect(db.query(sql, params)).rejects.toThrow(/append-only/);
    expect(await log.verify()).toMatchObject({ ok: true });
  });

  const restore = async (row: Record<string, unknown>) => {
    await asSuperuser('DELETE FROM audit_log WHERE seq = $1', [row.seq]);
    await asSuperuser(
      `INSERT INTO audit_log (seq, at, event, actor_type, actor_id, actor_name, tenant_id, action_id, subject, request_id, data, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13)`,
      [
        row.seq,
        row.at,
        row.event,
        row.actor_type,
        row.actor_id,
        row.actor_name,
        row.tenant_id,
        row.action_id,
        row.subject,
        row.request_id,
        JSON.stringify(row.data),
        row.prev_hash,
        row.hash,
      ],
    );
  };

  describe('verify finds tampering done with the trigger switched off', () => {
    let target: number;
    let original: Record<string, unknown>;
    beforeEach(async () => {
      for (let i = 0; i < 5; i++) await log.record({ event: 'test.tamper-target', actor: SYSTEM, requestId: `tt${i}`, data: { i, note: 'original' } });
      target = (await headSeq()) - 2;
      [original] = await db.query('SELECT * FROM audit_log WHERE seq = $1', [target]);
      expect(await log.verify()).toMatchObject({ ok: true });
    });
    afterEach(async () => {
      // put the row back as it was so the rest of the suite sees a valid chain again
      await restore(original);
      expect(await log.verify()).toMatchObject({ ok: true });
    });

    it('changed data', async () => {
      await asSuperuser(`UPDATE audit_log SET data = jsonb_set(data, '{note}', '"altered"') WHERE seq = $1`, [target]);
      expect(await log.verify()).toMatchObject({ ok: false, firstBadSeq: target, reason: 'hash does not match the entry' });
    });

    it('changed hash (recomputed for the altered entry only)', async () => {
      await asSuperuser(`UPDATE audit_log SET hash = sha256(hash) WHERE seq = $1`, [target]);
      const result = await log.verify();
      expect(result).toMatchObject({ ok: false, firstBadSeq: target });
    });

    it('deleted entry', async () => {
      await asSuperuser('DELETE FROM audit_log WHERE seq = $1', [target]);
      expect(await log.verify()).toMatchObject({ ok: false, firstBadSeq: target, reason: 'entry missing' });
    });

    it('reordered entries (two entries swap their contents)', async () => {
      const [neighbourBefore] = await db.query('SELECT * FROM audit_log WHERE seq = $1', [target + 1]);
      await asSuperuser(
        `UPDATE audit_log a SET event = b.event, data = b.data, request_id = b.request_id, prev_hash = b.prev_hash, hash = b.hash
           FROM audit_log b WHERE (a.seq, b.seq) IN (($1::bigint, $1::bigint + 1), ($1::bigint + 1, $1::bigint))`,
        [target],
      );
      expect(await log.verify()).toMatchObject({ ok: false, firstBadSeq: target });
      // the neighbour now holds the target's original contents and vice versa; afterEach restores the target
      await restore({ ...neighbourBefore });
    });

    it('an inserted forged entry', async () => {
      // shift nothing: the forger replaces the target with a well-formed entry chained to its predecessor
      await asSuperuser(`UPDATE audit_log SET event = 'api-key.created', data = '{"forged":true}' WHERE seq = $1`, [target]);
      const { chainHash } = await import('../../src/audit-log/audit-entry');
      const [row] = await db.query('SELECT * FROM audit_log WHERE seq = $1', [target]);
      const forgedHash = chainHash(Buffer.from(row.prev_hash), {
        seq: target,
        at: row.at.toISOString(),
        event: row.event,
        actor: { type: row.actor_type, id: row.actor_id, name: row.actor_name },
        tenantId: row.tenant_id,
        actionId: row.action_id,
        subject: row.subject,
        requestId: row.request_id,
        data: row.data,
      });
      await asSuperuser('UPDATE audit_log SET hash = $2 WHERE seq = $1', [target, forgedHash]);
      expect(await log.verify()).toMatchObject({ ok: false, firstBadSeq: target + 1, reason: 'prevHash does not match the previous entry' });
    });
  });

  it('fails closed: when the entry cannot be written the change does not happen and the caller gets 503', async () => {
    const keysBefore = Number((await db.query('SELECT count(*) AS n FROM api_keys'))[0].n);
    await db.query(`ALTER TABLE audit_pending ADD CONSTRAINT e2e_refuse_key_entries CHECK (event <> 'api-key.created') NOT VALID`);
    try {
      const res = await t.http
        .post('/v1/api-keys')
        .set(bearer(t.adminKey))
        .send({ name: 'never', roles: ['analyst'] });
      expectProblem(res, 503, 'audit-log-unavailable');
      expect(res.body.key).toBeUndefined();
    } finally {
      await db.query('ALTER TABLE audit_pending DROP CONSTRAINT e2e_refuse_key_entries');
    }
    expect(Number((await db.query('SELECT count(*) AS n FROM api_keys'))[0].n)).toBe(keysBefore);
    expect(await log.verify()).toMatchObject({ ok: true });
  });

  it('audits refused authentication at most once a minute per key prefix, then a count', async () => {
    const recorder = t.app.get(RefusalRecorder);
    await recorder.flush(true);
    const badKey = 'cdn_ZZZZZZ' + 'q'.repeat(37);
    for (let i = 0; i < 5; i++) await t.http.get('/v1/api-keys').set(bearer(badKey)).set('X-Request-Id', `bad-${i}`).expect(401);
    let entries = (await t.http.get('/v1/audit-log?event=auth.refused&limit=1000').set(bearer(t.adminKey))).body.items.filter(
      (e: { actor: { id: string } }) => e.actor.id === 'cdn_ZZZZZZ',
    );
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actor: { type: 'apiKey', id: 'cdn_ZZZZZZ' },
      requestId: 'bad-0',
      data: { count: 1, reason: 'The API key is not valid.', credentialHmac: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    expect(JSON.stringify(entries)).not.toContain(badKey);
    await recorder.flush(true);
    entries = (await t.http.get('/v1/audit-log?event=auth.refused&limit=1000').set(bearer(t.adminKey))).body.items.filter(
      (e: { actor: { id: string } }) => e.actor.id === 'cdn_ZZZZZZ',
    );
    expect(entries).toHaveLength(2);
    expect(entries[1].data).toMatchObject({ count: 4, summary: true });
  });

  it('audits refused authorization', async () => {
    const { key, id } = await createKey(t, ['analyst']);
    await t.http.get('/v1/audit-log').set(bearer(key)).expect(403);
    const entries = (await t.http.get(`/v1/audit-log?event=authz.refused&actor=${id}`).set(bearer(t.adminKey))).body.items;
    expect(entries[0]).toMatchObject({ actor: { type: 'apiKey', id }, data: { route: '/v1/audit-log', required: ['auditor', 'admin'], count: 1 } });
  });

  it('is readable by auditors and admins only', async () => {
    for (const role of ['analyst', 'responder']) {
      const { key } = await createKey(t, [role]);
      for (const path of ['/v1/audit-log', '/v1/audit-log/verify', '/v1/audit-log/export'])
        expectProblem(await t.http.get(path).set(bearer(key)), 403, 'forbidden');
    }
    const auditor = await createKey(t, ['auditor']);
    for (const key of [auditor.key, t.adminKey]) {
      await t.http.get('/v1/audit-log').set(bearer(key)).expect(200);
      await t.http.get('/v1/audit-log/verify').set(bearer(key)).expect(200);
      await t.http.get('/v1/audit-log/export').set(bearer(key)).expect(200);
    }
  });

  it('filters and pages in seq order', async () => {
    const tenantId = 'a5c1e2b3-1111-4222-8333-944455566677';
    for (let i = 0; i < 7; i++)
      await log.record({
        event: 'test.filtered',
        actor: { type: 'system', id: 'filter-writer', name: 'f' },
        tenantId: i % 2 ? tenantId : null,
        requestId: `f${i}`,
      });
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: Array<{ seq: number; tenantId: string }>; nextCursor: string | null } } = await t.http
        .get(`/v1/audit-log?actor=filter-writer&limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        .set(bearer(t.adminKey))
        .expect(200);
      seen.push(...res.body.items.map((e) => e.seq));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(7);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    const byTenant = await t.http.get(`/v1/audit-log?tenantId=${tenantId}&event=test.filtered`).set(bearer(t.adminKey));
    expect(byTenant.body.items).toHaveLength(3);
    const future = await t.http.get(`/v1/audit-log?since=2999-01-01T00:00:00Z`).set(bearer(t.adminKey));
    expect(future.body.items).toHaveLength(0);
    expectProblem(await t.http.get('/v1/audit-log?since=yesterday').set(bearer(t.adminKey)), 400, 'validation-failed');
  });

  it('exports every entry as NDJSON and CSV, streamed, with Content-Disposition', async () => {
    await db.transaction((m) =>
      t.app.get(AuditLogRepository).appendMany(
        m,
        Array.from({ length: 12000 }, (_, i) => ({ event: 'test.bulk', actor: SYSTEM, requestId: `bulk-${i}`, data: { i, text: 'a,"quoted",\nline' } })),
      ),
    );
    const total = await headSeq();
    const ndjson = await t.http
      .get('/v1/audit-log/export?format=ndjson')
      .set(bearer(t.adminKey))
      .buffer(true)
      .parse((res, cb) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => cb(null, text));
      });
    expect(ndjson.status).toBe(200);
    expect(ndjson.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(ndjson.headers['content-disposition']).toMatch(/^attachment; filename="cordon-audit-log-.*\.ndjson"$/);
    expect(ndjson.headers['transfer-encoding']).toBe('chunked');
    // Complete and in order; jobs of other suites sharing the database may append while this runs.
    const lines = (ndjson.body as string)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThanOrEqual(total);
    expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: lines.length }, (_, i) => i + 1));
    // each line is the entry exactly as the API shows it, so an auditor can check its hash from the export alone
    const page = (await t.http.get('/v1/audit-log?limit=100').set(bearer(t.adminKey)).expect(200)).body.items;
    expect(lines.slice(0, page.length)).toEqual(page);
    const bulk = lines.find((l) => l.event === 'test.bulk');
    const { hash, prevHash, ...fields } = bulk;
    expect(createHash('sha256').update(Buffer.from(prevHash, 'hex')).update(canonicalJson(fields)).digest('hex')).toBe(hash);

    const csv = await t.http
      .get('/v1/audit-log/export?format=csv')
      .set(bearer(t.adminKey))
      .buffer(true)
      .parse((res, cb) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => cb(null, text));
      });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const body = csv.body as string;
    expect(body.startsWith('seq,at,event,actor_type,actor_id,actor_name,tenant_id,action_id,subject,request_id,data,prev_hash,hash\r\n')).toBe(true);
    expect(body.split('\r\n').filter((l) => /^\d+,/.test(l)).length).toBeGreaterThanOrEqual(total);
    expect(await log.verify()).toMatchObject({ ok: true });
  });
});
