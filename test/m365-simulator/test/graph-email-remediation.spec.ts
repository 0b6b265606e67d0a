import type { SimMailMessage, SimTenant } from '../src/types';
import { folderId } from '../src/graph/mail-messages';
import { graphHarness } from './graph-support/harness';
import { ALICE_ID, makeTenant, makeUser, START, tokenFor } from './graph-support/fake-context';

const NMID = '73ca4154-58d8-43d0-a890-08dc18c52e6d';
const IMID = '<phish.1@evil.example>';
const READ_AE = tokenFor(['SecurityAnalyzedMessage.Read.All']);
const WRITE_AE = tokenFor(['SecurityAnalyzedMessage.ReadWrite.All']);
const MAIL_READ = tokenFor(['Mail.Read']);
const MAIL_RW = tokenFor(['Mail.ReadWrite']);
const IMMUTABLE = { prefer: 'IdType="ImmutableId"' };
const BOB_ID = '44444444-4444-4444-8444-444444444444';
const NO_THROTTLE = { graph: { throttling: { securityPerMinute: 0 } } };

function message(n: number, overrides: Partial<SimMailMessage> = {}): SimMailMessage {
  return {
    immutableId: `imm-${n}`,
    restId: `rest-${n}`,
    internetMessageId: IMID,
    networkMessageId: NMID,
    subject: 'Payroll',
    from: 'payroll@evil.example',
    receivedDateTime: new Date(START - 3_600_000).toISOString(),
    folder: 'inbox',
    threatTypes: ['phish'],
    ...overrides,
  };
}

function tenant(overrides: Partial<SimTenant> = {}): SimTenant {
  return makeTenant({
    users: [
      makeUser({
        id: ALICE_ID,
        userPrincipalName: 'alice@contoso.com',
        messages: [message(1), message(2, { internetMessageId: '<news@x>', networkMessageId: 'n-2', subject: 'News' })],
      }),
      makeUser({ id: BOB_ID, userPrincipalName: 'bob@contoso.com', messages: [message(3)] }),
    ],
    ...overrides,
  });
}

const REMEDIATE = '/v1.0/security/collaboration/analyzedEmails/remediate';
const body = (action: string, emails = [{ networkMessageId: NMID, recipientEmailAddress: 'alice@contoso.com' }]) => ({
  displayName: 'IR-1 purge',
  description: 'reported phish',
  severity: 'medium',
  action,
  remediateSendersCopy: false,
  analyzedEmails: emails,
});

describe('GET security/collaboration/analyzedEmails', () => {
  it('lists one analyzed email per delivered copy, filtered by networkMessageId and recipient, with latestDelivery', async () => {
    const h = graphHarness([tenant()], NO_THROTTLE);
    const all = await h.call('GET', `/v1.0/security/collaboration/analyzedEmails?$filter=networkMessageId eq '${NMID}'`, { token: READ_AE });
    expect(all.status).toBe(200);
    expect(all.body.value.map((e: { recipientEmailAddress: string }) => e.recipientEmailAddress).sort()).toEqual(['alice@contoso.com', 'bob@contoso.com']);
    const one = await h.call(
      'GET',
      `/v1.0/security/collaboration/analyzedEmails?startTime=2025-03-01&endTime=2025-03-05&$filter=networkMessageId eq '${NMID}' and recipientEmailAddress eq 'bob@contoso.com'`,
      { token: READ_AE },
    );
    expect(one.body.value).toHaveLength(1);
    expect(one.body.value[0]).toMatchObject({
      networkMessageId: NMID,
      internetMessageId: IMID,
      latestDelivery: { location: 'inbox_folder', action: 'delivered' },
    });
    expect(one.body.value[0].id).toMatch(new RegExp(`^${NMID}-\\d+-1$`));
    const outside = await h.call('GET', `/v1.0/security/collaboration/analyzedEmails?startTime=2025-02-01&endTime=2025-02-02`, { token: READ_AE });
    expect(outside.body.value).toHaveLength(0);
    const paged = await h.pageAll('/v1.0/security/collaboration/analyzedEmails?$top=1', { token: READ_AE });
    expect(paged).toMatchObject({ pages: 3 });
  });

  it('refuses a token without SecurityAnalyzedMessage.Read(Write).All, an unsupported filter and a bad time', async () => {
    const h = graphHarness([tenant()], NO_THROTTLE);
    const denied = await h.call('GET', '/v1.0/security/collaboration/analyzedEmails', { token: MAIL_RW });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toContain('SecurityAnalyzedMessage.Read.All');
    const filter = await h.call('GET', "/v1.0/security/collaboration/analyzedEmails?$filter=subject eq 'x'", { token: READ_AE });
    expect(filter.status).toBe(400);
    const time = await h.call('GET', '/v1.0/security/collaboration/analyzedEmails?startTime=yesterday', { token: READ_AE });
    expect(time.status).toBe(400);
  });

  it('answers 403 when the tenant has no Defender for Office 365', async () => {
    const t = tenant();
    t.licences.defenderForOffice = false;
    const h = graphHarness([t], NO_THROTTLE);
    const res = await h.call('GET', '/v1.0/security/collaboration/analyzedEmails', { token: READ_AE });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toContain('Defender for Office 365');
    expect((await h.call('POST', REMEDIATE, { token: WRITE_AE, body: body('softDelete') })).status).toBe(403);
  });
});

describe('POST security/collaboration/analyzedEmails/remediate', () => {
  it('answers 202 with an empty body and a portal Location, and changes the mailbox only after the delay', async () => {
    const t = tenant();
    const h = graphHarness([t], { graph: { throttling: { securityPerMinute: 0 }, mail: { remediationDelayMs: 5000 } } });
    const res = await h.call('POST', REMEDIATE, {
      token: WRITE_AE,
      body: body('softDelete', [
        { networkMessageId: NMID, recipientEmailAddress: 'alice@contoso.com' },
        { networkMessageId: NMID, recipientEmailAddress: 'bob@contoso.com' },
      ]),
    });
    expect(res.status).toBe(202);
    expect(res.body).toBeUndefined();
    expect(res.headers?.location).toMatch(/^https:\/\/security\.microsoft\.com\/action-center\/history\?filters=.*bulkId/);
    expect(t.emailRemediations).toHaveLength(1);
    const alice = t.users[0].messages![0];
    const list = () => h.call('GET', `/v1.0/security/collaboration/analyzedEmails?$filter=networkMessageId eq '${NMID}'`, { token: READ_AE });
    expect((await list()).body.value.every((e: { latestDelivery: { location: string } }) => e.latestDelivery.location === 'inbox_folder')).toBe(true);
    expect(alice.folder).toBe('inbox');
    h.ctx.clock.advance(5000);
    const after = await list();
    expect(after.body.value.map((e: { latestDelivery: { location: string } }) => e.latestDelivery.location)).toEqual(['deletedFolder', 'deletedFolder']);
    expect(alice.folder).toBe('recoverableitemsdeletions');
    expect(t.users[1].messages![0].folder).toBe('recoverableitemsdeletions');
    expect(t.users[0].messages![1].folder).toBe('inbox');
    expect(t.emailRemediations![0]).toMatchObject({ status: 'completed', action: 'softDelete' });
    // Every call is a new Action center entry: a second submission is not merged into the first.
    await h.call('POST', REMEDIATE, { token: WRITE_AE, body: body('moveToInbox') });
    expect(t.emailRemediations).toHaveLength(2);
  });

  it('validates the documented body, and refuses the read-only role', async () => {
    const t = tenant();
    const h = graphHarness([t], NO_THROTTLE);
    const missing = await h.call('POST', REMEDIATE, { token: WRITE_AE, body: { ...body('softDelete'), severity: undefined } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain('severity');
    expect((await h.call('POST', REMEDIATE, { token: WRITE_AE, body: body('purge') })).status).toBe(400);
    expect((await h.call('POST', REMEDIATE, { token: WRITE_AE, body: body('moveToQuarantine') })).body.error.message).toContain('not currently supported');
    expect((await h.call('POST', REMEDIATE, { token: WRITE_AE, body: body('softDelete', []) })).status).toBe(400);
    expect(
      (await h.call('POST', REMEDIATE, { token: WRITE_AE, body: body('softDelete', [{ networkMessageId: NMID, recipientEmailAddress: 'nobody' }]) })).status,
    ).toBe(400);
    // The documented sample's string "false" is read as a boolean.
    expect((await h.call('POST', REMEDIATE, { token: WRITE_AE, body: { ...body('softDelete'), remediateSendersCopy: 'false' } })).status).toBe(202);
    const ro = await h.call('POST', REMEDIATE, { token: READ_AE, body: body('softDelete') });
    expect(ro.status).toBe(403);
    expect(ro.body.error.message).toContain('SecurityAnalyzedMessage.ReadWrite.All');
    expect(t.emailRemediations).toHaveLength(1);
  });
});

describe('per-mailbox messages', () => {
  const list = `/v1.0/users/alice@contoso.com/messages?$filter=internetMessageId eq '${IMID}'`;

  it('finds a message by internetMessageId; ids are immutable only with Prefer: IdType="ImmutableId"', async () => {
    const h = graphHarness([tenant()], NO_THROTTLE);
    const plain = await h.call('GET', list, { token: MAIL_READ });
    expect(plain.status).toBe(200);
    expect(plain.body.value).toHaveLength(1);
    expect(plain.body.value[0]).toMatchObject({ id: 'rest-1', internetMessageId: IMID, subject: 'Payroll' });
    const immutable = await h.call('GET', list, { token: MAIL_READ, headers: IMMUTABLE });
    expect(immutable.body.value[0].id).toBe('imm-1');
    const denied = await h.call('GET', list, { token: READ_AE });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('ErrorAccessDenied');
  });

  it('move answers 201 with the moved message; the REST id changes, the immutable id does not', async () => {
    const t = tenant();
    const h = graphHarness([t], NO_THROTTLE);
    const moved = await h.call('POST', '/v1.0/users/alice@contoso.com/messages/rest-1/move', { token: MAIL_RW, body: { destinationId: 'junkemail' } });
    expect(moved.status).toBe(201);
    expect(moved.body.id).not.toBe('rest-1');
    expect(moved.body.parentFolderId).toBe(folderId(t.users[0], 'junkemail'));
    expect((await h.call('GET', '/v1.0/users/alice@contoso.com/messages/rest-1', { token: MAIL_READ })).status).toBe(404);
    const again = await h.call('POST', '/v1.0/users/alice@contoso.com/messages/imm-1/move', {
      token: MAIL_RW,
      headers: IMMUTABLE,
      body: { destinationId: 'Inbox' },
    });
    expect(again.status).toBe(201);
    expect(again.body.id).toBe('imm-1');
    expect(t.users[0].messages![0].folder).toBe('inbox');
    const bad = await h.call('POST', '/v1.0/users/alice@contoso.com/messages/imm-1/move', { token: MAIL_RW, body: { destinationId: 'nowhere' } });
    expect(bad.status).toBe(400);
    const ro = await h.call('POST', '/v1.0/users/alice@contoso.com/messages/imm-1/move', { token: MAIL_READ, body: { destinationId: 'junkemail' } });
    expect(ro.status).toBe(403);
  });

  it('DELETE is a soft delete into Recoverable Items; permanentDelete purges', async () => {
    const t = tenant();
    const h = graphHarness([t], NO_THROTTLE);
    expect((await h.call('DELETE', '/v1.0/users/alice@contoso.com/messages/imm-1', { token: MAIL_RW })).status).toBe(204);
    expect((await h.call('GET', list, { token: MAIL_READ })).body.value).toHaveLength(0);
    const read = await h.call('GET', '/v1.0/users/alice@contoso.com/messages/imm-1', { token: MAIL_READ, headers: IMMUTABLE });
    expect(read.status).toBe(200);
    expect(read.body.parentFolderId).toBe(folderId(t.users[0], 'recoverableitemsdeletions'));
    const folder = await h.call('GET', '/v1.0/users/alice@contoso.com/mailFolders/RecoverableItemsDeletions', { token: MAIL_READ });
    expect(folder.body.id).toBe(read.body.parentFolderId);
    const dumpster = await h.call(
      'GET',
      `/v1.0/users/alice@contoso.com/mailFolders/recoverableitemsdeletions/messages?$filter=internetMessageId eq '${IMID}'`,
      {
        token: MAIL_READ,
      },
    );
    expect(dumpster.body.value).toHaveLength(1);
    expect((await h.call('POST', '/v1.0/users/bob@contoso.com/messages/imm-3/permanentDelete', { token: MAIL_RW })).status).toBe(204);
    expect((await h.call('GET', '/v1.0/users/bob@contoso.com/messages/imm-3', { token: MAIL_READ })).body.error.code).toBe('ErrorItemNotFound');
    expect(t.users[1].messages![0].folder).toBe('recoverableitemspurges');
    expect((await h.call('DELETE', '/v1.0/users/nobody@contoso.com/messages/imm-3', { token: MAIL_RW })).body.error.code).toBe('ErrorInvalidUser');
  });

  it('answers 429 "MailboxConcurrency" to a fifth request in flight on one mailbox', async () => {
    const h = graphHarness([tenant()], { graph: { throttling: { securityPerMinute: 0 }, mail: { latencyMs: 50 } } });
    const answers = await Promise.all(Array.from({ length: 6 }, () => h.call('GET', list, { token: MAIL_READ })));
    const throttled = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(4);
    expect(throttled).toHaveLength(2);
    expect(throttled[0].body.error.message).toBe('Application is over its MailboxConcurrency limit.');
    expect(throttled[0].headers?.['retry-after']).toBeDefined();
    // Another mailbox has its own four.
    const bob = await h.call('GET', '/v1.0/users/bob@contoso.com/messages', { token: MAIL_READ });
    expect(bob.status).toBe(200);
  });
});
