import { HUNTING_TABLES } from './hunting-tables';
import { huntingRecordId, normalizeHuntingRow } from './hunting-normalize';

const table = (name: string) => HUNTING_TABLES.find((t) => t.name === name)!;

describe('normalizeHuntingRow', () => {
  it('maps time, user, device, address, action and workload, and keeps the raw row with its table', () => {
    const row = {
      Timestamp: '2025-03-04T10:11:12.1234567Z',
      DeviceId: 'abc',
      DeviceName: 'ws-001',
      ActionType: 'LogonFailed',
      AccountUpn: 'Alice@Contoso.com',
      RemoteIP: '203.0.113.9',
      ReportId: 42,
    };
    const event = normalizeHuntingRow(table('DeviceLogonEvents'), row)!;
    expect(event).toMatchObject({
      occurredAt: new Date('2025-03-04T10:11:12.123Z'),
      workload: 'DefenderForEndpoint',
      operation: 'LogonFailed',
      resultStatus: 'Failed',
      userId: 'alice@contoso.com',
      clientIp: '203.0.113.9',
      objectId: 'ws-001',
    });
    expect(JSON.parse(event.raw)).toEqual({ Table: 'DeviceLogonEvents', ...row });
  });

  it("identifies a row by its table's key columns only", () => {
    const t = table('EmailEvents');
    const a = { Timestamp: '2025-03-04T10:00:00.0000001Z', NetworkMessageId: 'm1', RecipientEmailAddress: 'a@x', Subject: 'one' };
    expect(huntingRecordId(t, a)).toBe(huntingRecordId(t, { ...a, Subject: 'changed', Timestamp: '2025-03-05T00:00:00Z' }));
    expect(huntingRecordId(t, a)).not.toBe(huntingRecordId(t, { ...a, RecipientEmailAddress: 'b@x' }));
    expect(huntingRecordId(t, a)).not.toBe(huntingRecordId(table('EmailAttachmentInfo'), a));
  });

  it('refuses a row without a Timestamp', () => {
    expect(normalizeHuntingRow(table('CloudAppEvents'), { ReportId: 'x' })).toBeNull();
  });
});
