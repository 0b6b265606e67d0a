import { absent, evidenceSha256, EvidenceSnapshots } from './evidence-snapshots';
import { canonicalJson } from '../../audit-log/audit-entry';
import { createHash } from 'node:crypto';

const input = {
  actionId: 'a',
  tenantId: 't',
  target: { requested: 'alice', id: 'u1', display: 'alice@contoso.com', identities: [], groups: [] },
  capabilities: {},
};

describe('EvidenceSnapshots', () => {
  it('takes every read of the kind at once: present, absent with why, failed with the error, each hashed', async () => {
    const s = new EvidenceSnapshots();
    s.register('user', 'user', async () => ({ accountEnabled: true, when: new Date('2026-12-07T00:00:00Z'), gone: undefined }));
    s.register('user', 'risk', async () => absent('risk needs Entra ID P2'));
    s.register('user', 'rules', async () => {
      throw new Error('MailboxNotEnabledForRESTAPI');
    });
    s.register('device', 'machine', async () => ({ id: 'm1' }));
    const items = await s.take('user', input);
    expect(items.map(({ sha256: _hash, ...i }) => i)).toEqual([
      { name: 'user', status: 'present', content: { accountEnabled: true, when: '2026-12-07T00:00:00.000Z' } },
      { name: 'risk', status: 'absent', note: 'risk needs Entra ID P2' },
      { name: 'rules', status: 'failed', note: 'MailboxNotEnabledForRESTAPI' },
    ]);
    for (const { sha256, ...item } of items) expect(sha256).toBe(createHash('sha256').update(canonicalJson(item)).digest('hex'));
  });

  it('records a read that takes too long as failed and does not wait for it', async () => {
    const s = new EvidenceSnapshots();
    s.register('device', 'slow', () => new Promise((resolve) => setTimeout(() => resolve({}), 5000).unref()));
    const started = Date.now();
    const [item] = await s.take('device', input, 50);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(item).toMatchObject({ name: 'slow', status: 'failed', note: 'the read took longer than 50 ms' });
  });

  it('covers a handler whose kind has reads, unless it opts out; a read is registered once', () => {
    const s = new EvidenceSnapshots();
    s.register('user', 'user', async () => ({}));
    expect(s.covers({ targetKind: 'user' })).toBe(true);
    expect(s.covers({ targetKind: 'user', snapshot: false })).toBe(false);
    expect(s.covers({ targetKind: 'app' })).toBe(false);
    expect(() => s.register('user', 'user', async () => ({}))).toThrow(/twice/);
  });

  it('hashes canonical JSON: key order does not matter, values do', () => {
    expect(evidenceSha256({ a: 1, b: [2, { c: 3, d: 4 }] })).toBe(evidenceSha256({ b: [2, { d: 4, c: 3 }], a: 1 }));
    expect(evidenceSha256({ a: 1 })).not.toBe(evidenceSha256({ a: 2 }));
  });
});
