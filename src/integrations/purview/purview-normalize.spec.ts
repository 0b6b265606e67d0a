import { normalizeAuditLogRecord } from './purview-normalize';

describe('normalizeAuditLogRecord', () => {
  it("takes Graph's fields and the Management API numbers from auditData, keeping the whole record", () => {
    const record = {
      id: 'ABC',
      createdDateTime: '2025-01-05T10:00:00Z',
      auditLogRecordType: 'exchangeAdmin',
      operation: 'New-InboxRule',
      service: 'Exchange',
      userPrincipalName: 'Alice@Contoso.com',
      clientIp: '203.0.113.4:443',
      objectId: 'rule-1',
      auditData: { Id: 'ABC', RecordType: 1, UserType: 2, ResultStatus: 'True', CreationTime: '2025-01-05T10:00:00' },
    };
    expect(normalizeAuditLogRecord(record)).toEqual({
      recordId: 'abc',
      occurredAt: new Date('2025-01-05T10:00:00Z'),
      workload: 'Exchange',
      recordType: 1,
      operation: 'New-InboxRule',
      resultStatus: 'Succeeded',
      userId: 'alice@contoso.com',
      userType: 2,
      clientIp: '203.0.113.4',
      objectId: 'rule-1',
      raw: JSON.stringify(record),
    });
  });

  it("falls back to auditData's zone-less CreationTime (UTC), and refuses a record without id or time", () => {
    expect(normalizeAuditLogRecord({ id: 'x', auditData: { CreationTime: '2025-01-05T10:00:00' } })?.occurredAt).toEqual(new Date('2025-01-05T10:00:00Z'));
    expect(normalizeAuditLogRecord({ createdDateTime: '2025-01-05T10:00:00Z' })).toBeNull();
    expect(normalizeAuditLogRecord({ id: 'x' })).toBeNull();
  });
});
