import { checkIndicator } from './indicator-request';
import { expiryOf, normaliseIndicatorValue } from './indicator-values';

const NOW = Date.parse('2026-03-02T09:00:00Z');
const base = { type: 'FileSha256', value: 'A'.repeat(64), action: 'Block', title: 't' };
const fields = (r: ReturnType<typeof checkIndicator>) => (Array.isArray(r) ? r.map((e) => e.field) : []);

describe('indicator checks', () => {
  it('checks each type and normalises the value', () => {
    const ok: Array<[string, string, string]> = [
      ['FileSha1', 'AB'.repeat(20), 'ab'.repeat(20)],
      ['FileMd5', 'f'.repeat(32), 'f'.repeat(32)],
      ['CertificateThumbprint', '0'.repeat(40), '0'.repeat(40)],
      ['IpAddress', '203.0.113.7', '203.0.113.7'],
      ['IpAddress', '2001:4860:4860::8888', '2001:4860:4860::8888'],
      ['DomainName', 'bücher.example', 'xn--bcher-kva.example'],
      ['Url', 'https://Evil.example/a?b=1', 'https://evil.example/a?b=1'],
    ];
    for (const [type, raw, want] of ok) expect(normaliseIndicatorValue(type as never, raw)).toEqual({ value: want });
    const bad: Array<[string, string]> = [
      ['FileSha1', 'a'.repeat(64)],
      ['FileSha256', 'g'.repeat(64)],
      ['FileMd5', 'a'.repeat(31)],
      ['IpAddress', '203.0.113.0/24'],
      ['IpAddress', '192.168.1.1'],
      ['IpAddress', '::1'],
      ['IpAddress', 'evil.example'],
      ['DomainName', 'https://evil.example'],
      ['DomainName', 'localhost'],
      ['Url', 'ftp://evil.example/x'],
      ['Url', 'evil.example/x'],
    ];
    for (const [type, raw] of bad) expect({ type, raw, r: 'problem' in normaliseIndicatorValue(type as never, raw) }).toEqual({ type, raw, r: true });
  });

  it('refuses the retired actions naming the replacement, and Audit without generateAlert', () => {
    const alert = checkIndicator({ ...base, action: 'AlertAndBlock' }, '', NOW);
    expect(alert).toEqual([{ field: 'action', message: expect.stringContaining('`Block` with `generateAlert: true`') }]);
    expect(checkIndicator({ ...base, action: 'Alert' }, '', NOW)).toEqual([{ field: 'action', message: expect.stringContaining('`Audit`') }]);
    expect(fields(checkIndicator({ ...base, action: 'Audit' }, '', NOW))).toEqual(['generateAlert']);
    expect(checkIndicator({ ...base, action: 'Audit', generateAlert: true }, '', NOW)).toMatchObject({ action: 'Audit', generateAlert: true });
  });

  it('defaults the expiry to 90 days and keeps a given one within a year, in the future', () => {
    expect(checkIndicator(base, '', NOW)).toMatchObject({ value: 'a'.repeat(64), expiresAt: '2026-05-31T09:00:00.000Z' });
    expect(expiryOf('2026-03-01T00:00:00Z', NOW)).toEqual({ problem: 'must be in the future' });
    expect(expiryOf('2027-04-01T00:00:00Z', NOW)).toEqual({ problem: 'must be at most 365 days ahead' });
    expect(expiryOf('2026-04-01T00:00:00+02:00', NOW)).toEqual({ expirationTime: '2026-03-31T22:00:00.000Z' });
  });

  it('names the import item and field, and refuses unknown fields in items', () => {
    const r = checkIndicator({ ...base, value: 'x', colour: 'red' }, 'indicators[3].', NOW, true);
    expect(fields(r).sort()).toEqual(['indicators[3].colour', 'indicators[3].value']);
  });
});
