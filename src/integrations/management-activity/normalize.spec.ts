import { normalizeRecord, parseCreationTime, recordIdOf } from './normalize';

const fallback = new Date('2026-01-01T00:00:00Z');

describe('normalizeRecord', () => {
  it('maps an Entra ID logon record (CreationTime without zone is UTC, null ClientIP)', () => {
    const e = normalizeRecord(
      {
        Id: '2B9E1C4A-6F0D-4C8E-9A11-3E5D7C2B1A90',
        RecordType: 15,
        CreationTime: '2025-03-03T11:02:09',
        Operation: 'UserLoggedIn',
        UserType: 0,
        Workload: 'AzureActiveDirectory',
        ResultStatus: 'Success',
        ObjectId: '00000003-0000-0ff1-ce00-000000000000',
        UserId: 'Alice@Contoso.com',
        ClientIP: null,
      },
      'Audit.AzureActiveDirectory',
      fallback,
    );
    expect(e).toMatchObject({
      recordId: '2b9e1c4a-6f0d-4c8e-9a11-3e5d7c2b1a90',
      occurredAt: new Date('2025-03-03T11:02:09Z'),
      workload: 'AzureActiveDirectory',
      recordType: 15,
      operation: 'UserLoggedIn',
      resultStatus: 'Succeeded',
      userId: 'alice@contoso.com',
      userType: 0,
      clientIp: null,
      objectId: '00000003-0000-0ff1-ce00-000000000000',
    });
  });

  it('maps an Exchange admin record (True result, ip:port)', () => {
    const raw = {
      Id: '7c0f9d21-3a55-4e2b-8d6f-0a1b2c3d4e5f',
      RecordType: 1,
      CreationTime: '2025-03-03T11:05:44',
      Operation: 'New-InboxRule',
      UserType: 2,
      Workload: 'Exchange',
      ResultStatus: 'True',
      ObjectId: 'alice@contoso.com\\Forward all',
      UserId: 'alice@contoso.com',
      ClientIP: '203.0.113.45:51234',
      Parameters: [{ Name: 'ForwardTo', Value: 'evil@example.net' }],
    };
    const e = normalizeRecord(raw, 'Audit.Exchange', fallback);
    expect(e).toMatchObject({
      workload: 'Exchange',
      recordType: 1,
      resultStatus: 'Succeeded',
      clientIp: '203.0.113.45',
      objectId: 'alice@contoso.com\\Forward all',
      userType: 2,
    });
    expect(JSON.parse(e.raw)).toEqual(raw);
  });

  it('stores the record text as delivered when it has it (big numbers stay exact)', () => {
    const text = '{"Id":"A1","CreationTime":"2025-03-03T11:05:44","Operation":"FileAccessed","Size": 12345678901234567890}';
    const e = normalizeRecord(JSON.parse(text) as Record<string, unknown>, 'Audit.SharePoint', fallback, text);
    expect(e.raw).toBe(text);
    expect(e).toMatchObject({ recordId: 'a1', operation: 'FileAccessed', workload: 'SharePoint' });
  });

  it('maps SharePoint, Teams and DLP records, taking ClientIPAddress / ActorIpAddress when ClientIP is absent', () => {
    expect(
      normalizeRecord(
        {
          Id: 'a',
          RecordType: 6,
          CreationTime: '2025-03-03T10:00:00.1234567',
          Operation: 'FileAccessed',
          Workload: 'SharePoint',
          UserId: 'bob@contoso.com',
          ClientIP: '2001:db8::1',
          ObjectId: 'https://contoso.sharepoint.com/a.docx',
        },
        'Audit.SharePoint',
        fallback,
      ),
    ).toMatchObject({
      occurredAt: new Date('2025-03-03T10:00:00.123Z'),
      workload: 'SharePoint',
      recordType: 6,
      clientIp: '2001:db8::1',
      objectId: 'https://contoso.sharepoint.com/a.docx',
    });
    expect(
      normalizeRecord(
        {
          Id: 'b',
          RecordType: 25,
          CreationTime: '2025-03-03T10:00:00',
          Operation: 'MessageSent',
          Workload: 'MicrosoftTeams',
          UserId: 'bob@contoso.com',
          ClientIPAddress: '[2001:db8::2]:443',
        },
        'Audit.General',
        fallback,
      ),
    ).toMatchObject({ workload: 'MicrosoftTeams', recordType: 25, clientIp: '2001:db8::2' });
    expect(
      normalizeRecord(
        {
          Id: 'c',
          RecordType: 8,
          CreationTime: '2025-03-03T10:00:00',
          Operation: 'Add member to role.',
          UserId: 'admin@contoso.com',
          ActorIpAddress: '198.51.100.7',
        },
        'Audit.AzureActiveDirectory',
        fallback,
      ),
    ).toMatchObject({ workload: 'AzureActiveDirectory', clientIp: '198.51.100.7' });
    expect(
      normalizeRecord(
        {
          Id: 'd',
          RecordType: 13,
          CreationTime: '2025-03-03T10:00:00',
          Operation: 'DLPRuleMatch',
          Workload: 'Exchange',
          UserId: 'carol@contoso.com',
          ClientIP: '',
        },
        'DLP.All',
        fallback,
      ),
    ).toMatchObject({ recordType: 13, clientIp: null, operation: 'DLPRuleMatch' });
  });

  it('keeps a record of an unknown type with what it has, missing user and all', () => {
    const e = normalizeRecord({ Id: 'e', RecordType: 9999, CreationTime: 'not a time', Operation: 'SomethingNew' }, 'Audit.General', fallback);
    expect(e).toMatchObject({
      recordId: 'e',
      recordType: 9999,
      operation: 'SomethingNew',
      occurredAt: fallback,
      userId: null,
      userType: null,
      clientIp: null,
      workload: null,
      resultStatus: null,
      objectId: null,
    });
  });

  it('gives a record without Id a stable content hash', () => {
    const r = { CreationTime: '2025-03-03T10:00:00', Operation: 'X' };
    expect(recordIdOf(r)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(recordIdOf({ ...r })).toBe(recordIdOf(r));
  });

  it('keeps numeric ids beyond a double apart, reading their digits from the text', () => {
    const a = '{"CreationTime":"2025-03-03T10:00:00","Id":123456789012345678901,"Actor":[{"Id":1}]}';
    const b = '{"Actor":[{"Id":7}],"Id" : 123456789012345678902,"X":"\\"Id\\":5"}';
    expect(recordIdOf(JSON.parse(a), a)).toBe('123456789012345678901');
    expect(recordIdOf(JSON.parse(b), b)).toBe('123456789012345678902');
    expect(recordIdOf({ Id: 42 }, '{"Id":42}')).toBe('42');
  });

  it('folds ids to lower case and trims them', () => {
    expect(recordIdOf({ Id: 'F3A1C2D4-0006-4C00-8000-00000000A006' })).toBe('f3a1c2d4-0006-4c00-8000-00000000a006');
    expect(recordIdOf({ Id: ' 7 ' })).toBe('7');
  });
});

describe('parseCreationTime', () => {
  it('reads zone-less times as UTC and honours an explicit zone', () => {
    expect(parseCreationTime('2025-03-03T11:02:09')).toEqual(new Date('2025-03-03T11:02:09Z'));
    expect(parseCreationTime('2025-03-03T11:02:09Z')).toEqual(new Date('2025-03-03T11:02:09Z'));
    expect(parseCreationTime('2025-03-03T13:02:09+02:00')).toEqual(new Date('2025-03-03T11:02:09Z'));
    expect(parseCreationTime('')).toBeNull();
    expect(parseCreationTime(42)).toBeNull();
  });
});
