import { startSimulator, DEMO, type RunningSimulator } from '../src/index';
import { CONTENT_TYPES, formatCreationTime } from '../src/manage-options';
import { splitJsonArray, parseRecordsText } from '../src/raw-records';
import { asNdjson, oddAuditRecords } from '../../support/odd-audit-records';
import { appToken, client } from './helpers';

/**
 * Every record is served exactly once (plus re-deliveries), whatever else the tenant holds and
 * whenever it arrives; `/_sim/state` says how many exist, are available and are still to come.
 */

const T = DEMO.contoso.tenantId;
const PUB = T;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let sim: RunningSimulator;
let http: ReturnType<typeof client>;
let token: string;
let root: string;

beforeAll(async () => {
  // The demo tenant (its own audit records, 3 % late share, re-deliveries) plus generated records.
  sim = await startSimulator({ quiet: true, generateAudit: 400, seed: 26 });
  http = client(sim);
  token = await appToken(sim, 'https://manage.office.com/.default');
  root = `${sim.baseUrls.manage}/api/v1.0/${T}/activity/feed`;
  for (const ct of CONTENT_TYPES) await http.post(`${root}/subscriptions/start?contentType=${ct}&PublisherIdentifier=${PUB}`, { token });
});
afterAll(() => sim.stop());

const state = async () => (await http.get(`${sim.baseUrls.manage}/_sim/state/tenants/${T}`)).json;

/** Every blob listed for a content type with contentCreated in [fromMs, toMs), following NextPageUri. */
async function listAll(ct: string, fromMs: number, toMs: number): Promise<Array<{ contentId: string; contentUri: string }>> {
  const out: Array<{ contentId: string; contentUri: string }> = [];
  for (let s = fromMs; s < toMs; s += 23 * HOUR) {
    const e = Math.min(s + 23 * HOUR, toMs);
    let url: string | undefined =
      `${root}/subscriptions/content?contentType=${ct}&startTime=${formatCreationTime(s)}&endTime=${formatCreationTime(e)}&PublisherIdentifier=${PUB}`;
    while (url) {
      const res = await http.get(url, { token });
      expect(res.status).toBe(200);
      out.push(...res.json);
      url = res.headers.nextpageuri as string | undefined;
    }
  }
  return out;
}

describe('every loaded record is served exactly once', () => {
  const served = new Map<string, { text: string; contentType: string }[]>(); // contentId → records
  let odd: ReturnType<typeof oddAuditRecords>;
  let before: Record<
    string,
    {
      records: number;
      available: number;
      pending: { total: number; late: number; latency: number; nextAt: string | null; lastAt: string | null };
      expired: number;
    }
  >;

  async function fetchNew(fromMs: number, toMs: number) {
    for (const ct of CONTENT_TYPES) {
      for (const blob of await listAll(ct, fromMs, toMs)) {
        if (served.has(blob.contentId)) continue;
        const res = await http.get(`${blob.contentUri}?PublisherIdentifier=${PUB}`, { token });
        expect(res.status).toBe(200);
        served.set(
          blob.contentId,
          splitJsonArray(res.text).map((text) => ({ text, contentType: ct })),
        );
      }
    }
  }

  it("accepts odd-shaped records as NDJSON next to the demo tenant's own and generated records", async () => {
    const nowMs = sim.clock.nowMs();
    odd = oddAuditRecords(nowMs, T);
    const res = await http.post(`${sim.baseUrls.manage}/_sim/state/tenants/${T}/audit-records`, {
      body: asNdjson(odd),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(res.status).toBe(201);
    expect(res.json.added.auditRecords).toBe(odd.length);
    before = (await state()).contentTypes;
    const total = CONTENT_TYPES.reduce((n, ct) => n + before[ct].records, 0);
    expect(total).toBe((await state()).auditRecords + 400);
    for (const ct of CONTENT_TYPES) expect(before[ct].records).toBe(before[ct].available + before[ct].pending.total + before[ct].expired);
  });

  it('serves them all once their time comes, each exactly once outside re-deliveries', async () => {
    const firstNow = sim.clock.nowMs();
    await fetchNew(firstNow - 7 * DAY + 60_000, firstNow);
    // Let latency and the late share (3 days) pass, then list what became available since.
    const pending = CONTENT_TYPES.reduce((n, ct) => n + before[ct].pending.total, 0);
    expect(pending).toBeGreaterThan(0); // the last half hour, and the late share
    sim.clock.advance(3 * DAY + 2 * HOUR);
    token = await appToken(sim, 'https://manage.office.com/.default'); // the old one expired meanwhile
    const after = (await state()).contentTypes;
    for (const ct of CONTENT_TYPES) expect(after[ct].pending.total).toBe(0);
    await fetchNew(firstNow - 2 * HOUR, sim.clock.nowMs());

    const originals = [...served].filter(([id]) => /\$sim\d{4}$/.test(id)).flatMap(([, records]) => records);
    const duplicates = [...served].filter(([id]) => /\$dup\d{4}$/.test(id));
    expect(duplicates.length).toBeGreaterThan(0);
    // Every record that was available at some point was served once (the oldest may have expired meanwhile).
    const expected = CONTENT_TYPES.reduce((n, ct) => n + before[ct].records - before[ct].expired, 0);
    expect(originals.length).toBe(expected);
    for (const r of odd) {
      const hits = originals.filter((s) => s.text === r.text);
      expect({ shape: r.shape, hits: hits.length }).toEqual({ shape: r.shape, hits: 1 });
      expect(hits[0].contentType).toBe(r.contentType);
    }
    // Verbatim: digits beyond a double's precision are still there.
    expect(originals.some((s) => s.text.includes('"Id":123456789012345678901,'))).toBe(true);
    expect(originals.some((s) => s.text.includes('98765432109876543210987'))).toBe(true);
  });
});

describe('content never changes once a client has seen it', () => {
  it('puts a record added for an already listed blob into a new blob of that bucket', async () => {
    const nowMs = sim.clock.nowMs();
    const created = nowMs - 2 * HOUR; // available 30 min later: its 15-minute blob is listable now
    const line = (id: string) =>
      `{"CreationTime":"${formatCreationTime(created)}","Id":"${id}","RecordType":25,"Workload":"MicrosoftTeams","Operation":"TeamCreated","OrganizationId":"${T}"}`;
    const ndjson = { headers: { 'content-type': 'application/x-ndjson' } };
    await http.post(`${sim.baseUrls.manage}/_sim/state/tenants/${T}/audit-records`, { body: line('gen0-first'), ...ndjson });
    const window = [nowMs - 3 * HOUR, nowMs] as const;
    const first = (await listAll('Audit.General', ...window)).filter((b) => b.contentId.includes('$sim'));
    const holder = [];
    for (const b of first) if ((await http.get(`${b.contentUri}?PublisherIdentifier=${PUB}`, { token })).text.includes('gen0-first')) holder.push(b);
    expect(holder).toHaveLength(1);

    await http.post(`${sim.baseUrls.manage}/_sim/state/tenants/${T}/audit-records`, { body: line('gen1-later'), ...ndjson });
    // The new blob is created when the record arrived (now), not back at its bucket's end.
    const again = (await listAll('Audit.General', window[0], sim.clock.nowMs() + 1000)).filter((b) => b.contentId.includes('$sim'));
    const unchanged = await http.get(`${holder[0].contentUri}?PublisherIdentifier=${PUB}`, { token });
    expect(unchanged.text).not.toContain('gen1-later');
    const fresh = again.filter((b) => !first.some((f) => f.contentId === b.contentId));
    expect(fresh).toHaveLength(1);
    expect(fresh[0].contentId.slice(0, 23)).toBe(holder[0].contentId.slice(0, 23)); // same bucket start
    expect(Date.parse((fresh[0] as unknown as { contentCreated: string }).contentCreated)).toBeGreaterThanOrEqual(nowMs);
    expect(fresh[0].contentId).toMatch(/\$sim0001$/);
    const body = await http.get(`${fresh[0].contentUri}?PublisherIdentifier=${PUB}`, { token });
    expect(JSON.parse(body.text).map((r: { Id: string }) => r.Id)).toEqual(['gen1-later']);
  });
});

describe('raw record text', () => {
  it('splits a JSON array into its elements without parsing them', () => {
    expect(splitJsonArray('[ {"a":"x,]}"} , {"b":[1,{"c":2}]},{"d":"\\"}"}]')).toEqual(['{"a":"x,]}"}', '{"b":[1,{"c":2}]}', '{"d":"\\"}"}']);
    expect(splitJsonArray('[]')).toEqual([]);
  });

  it('reads NDJSON and arrays alike, and names the line or element that is not a record', () => {
    expect(parseRecordsText('{"Id":1}\n\n{"Id":2}\n')).toHaveLength(2);
    expect(parseRecordsText('[{"Id":1},{"Id":2}]')).toHaveLength(2);
    expect(() => parseRecordsText('{"Id":1}\n{"Id":', 'f.ndjson')).toThrow(/^f\.ndjson:2: not a JSON record/);
    expect(() => parseRecordsText('[{"Id":1},3]', 'f.json')).toThrow(/^f\.json: element 2: a record must be a JSON object/);
  });

  it('rejects a control request body that is not records, changing nothing', async () => {
    const before = (await state()).auditRecords;
    const res = await http.post(`${sim.baseUrls.manage}/_sim/state/tenants/${T}/audit-records`, {
      body: '{"Id":1}\nnot json\n',
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(res.status).toBe(400);
    expect((await state()).auditRecords).toBe(before);
  });
});
