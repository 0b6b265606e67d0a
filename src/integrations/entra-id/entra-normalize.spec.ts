import { normalizeDirectoryAudit, normalizeRiskDetection, normalizeSignIn } from './entra-normalize';

describe('Entra record normalization', () => {
  it('maps a failed interactive sign-in: UPN lower-cased, errorCode ≠ 0 is a failure, raw kept', () => {
    const record = {
      id: 'ABC-1',
      createdDateTime: '2025-03-03T11:02:09Z',
      userPrincipalName: 'Alice@Contoso.com',
      userId: 'u1',
      appId: 'app-1',
      ipAddress: '2001:DB8::5',
      isInteractive: true,
      status: { errorCode: 50126 },
    };
    expect(normalizeSignIn(record)).toEqual({
      recordId: 'abc-1',
      occurredAt: new Date('2025-03-03T11:02:09Z'),
      workload: 'AzureActiveDirectory',
      recordType: null,
      userType: null,
      operation: 'SignIn',
      resultStatus: 'Failed',
      userId: 'alice@contoso.com',
      clientIp: '2001:db8::5',
      objectId: 'app-1',
      raw: JSON.stringify(record),
    });
  });

  it('tells non-interactive and successful sign-ins apart, and keeps an unusable IP out of the column', () => {
    expect(
      normalizeSignIn({ id: 'x', createdDateTime: '2025-03-03T11:02:09Z', isInteractive: false, status: { errorCode: 0 }, ipAddress: 'not-an-ip' }),
    ).toMatchObject({ operation: 'NonInteractiveSignIn', resultStatus: 'Succeeded', clientIp: null, userId: null });
  });

  it('refuses a record without id or valid time (the collector reports it)', () => {
    expect(normalizeSignIn({ createdDateTime: '2025-03-03T11:02:09Z' })).toBeNull();
    expect(normalizeSignIn({ id: 'x', createdDateTime: 'yesterday' })).toBeNull();
    expect(normalizeDirectoryAudit({ id: 'x' })).toBeNull();
  });

  it('maps a directory audit initiated by a user, and one initiated by an app', () => {
    const byUser = {
      id: 'Directory_1',
      activityDateTime: '2025-03-03T10:00:00Z',
      activityDisplayName: 'Update user',
      result: 'success',
      initiatedBy: { user: { userPrincipalName: 'Admin@Contoso.com', ipAddress: '198.51.100.9' }, app: null },
      targetResources: [{ id: 't1', userPrincipalName: 'bob@contoso.com' }],
    };
    expect(normalizeDirectoryAudit(byUser)).toMatchObject({
      recordId: 'directory_1',
      operation: 'Update user',
      resultStatus: 'Succeeded',
      userId: 'admin@contoso.com',
      clientIp: '198.51.100.9',
      objectId: 'bob@contoso.com',
    });
    const byApp = {
      id: 'Directory_2',
      activityDateTime: '2025-03-03T10:00:00Z',
      activityDisplayName: 'Disable account',
      result: 'failure',
      initiatedBy: { user: null, app: { appId: 'APP-ID', displayName: 'Cordon' } },
      targetResources: [{ id: 't2' }],
    };
    expect(normalizeDirectoryAudit(byApp)).toMatchObject({ resultStatus: 'Failed', userId: 'app-id', clientIp: null, objectId: 't2' });
  });

  it('maps a risk detection: the event type is the operation, its state the result, its activity time the time', () => {
    const risk = {
      id: 'R1',
      riskEventType: 'leakedCredentials',
      riskState: 'atRisk',
      activityDateTime: '2025-03-03T09:00:00Z',
      detectedDateTime: '2025-03-03T09:05:00Z',
      userId: 'u1',
      userPrincipalName: 'Bob@Contoso.com',
      ipAddress: '198.51.100.77',
    };
    expect(normalizeRiskDetection(risk)).toMatchObject({
      recordId: 'r1',
      occurredAt: new Date('2025-03-03T09:00:00Z'),
      operation: 'leakedCredentials',
      resultStatus: 'atRisk',
      userId: 'bob@contoso.com',
      objectId: 'u1',
    });
    expect(normalizeRiskDetection({ ...risk, activityDateTime: null })?.occurredAt).toEqual(new Date('2025-03-03T09:05:00Z'));
  });
});
