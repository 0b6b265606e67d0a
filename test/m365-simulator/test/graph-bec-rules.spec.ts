/** Inbox rules (microsoft-notes §9.1): Exchange-backed, so Exchange error codes inside Graph's body. */
import { graphHarness } from './graph-support/harness';
import { tokenFor } from './graph-support/fake-context';
import { becTenant, GUEST_ID, VICTIM_ID } from './graph-support/bec-tenant';

const READ = tokenFor(['MailboxSettings.Read']);
const WRITE = tokenFor(['MailboxSettings.ReadWrite']);
const RULES = `/v1.0/users/${VICTIM_ID}/mailFolders/inbox/messageRules`;

function setup(scenario = {}) {
  const tenant = becTenant();
  return { tenant, h: graphHarness([tenant], scenario) };
}

describe('GET messageRules', () => {
  it('lists the visible rules by sequence, never the hidden one', async () => {
    const { h } = setup();
    const res = await h.call('GET', `/v1.0/users/victim@contoso.com/mailFolders/inbox/messageRules`, { token: READ });
    expect(res.status).toBe(200);
    expect(res.body['@odata.context']).toBe(`https://localhost:9443/v1.0/$metadata#users('${VICTIM_ID}')/mailFolders('inbox')/messageRules`);
    expect(res.body.value.map((r: { displayName: string }) => r.displayName)).toEqual(['tidy', 'fwd', 'locked']);
    expect(res.body.value[1]).toEqual({
      id: 'AQAAAAAAAA1=',
      displayName: 'fwd',
      sequence: 2,
      isEnabled: true,
      hasError: false,
      isReadOnly: false,
      conditions: {},
      actions: { forwardTo: [{ emailAddress: { address: 'x@evil.example' } }] },
    });
    const hidden = await h.call('GET', `${RULES}/AQAAAAAAAA3=`, { token: READ });
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.code).toBe('ErrorItemNotFound');
  });

  it('gets one rule; unknown ids answer ErrorItemNotFound', async () => {
    const { h } = setup();
    const res = await h.call('GET', `${RULES}/AQAAAAAAAA1=`, { token: WRITE });
    expect(res.status).toBe(200);
    expect(res.body['@odata.context']).toMatch(/messageRules\/\$entity$/);
    expect(res.body.displayName).toBe('fwd');
    const missing = await h.call('GET', `${RULES}/AQAAAnope=`, { token: READ });
    expect(missing.body.error).toMatchObject({ code: 'ErrorItemNotFound', message: 'The specified object was not found in the store.' });
  });

  it('answers ErrorAccessDenied without MailboxSettings, ErrorInvalidUser and MailboxNotEnabledForRESTAPI', async () => {
    const { h } = setup();
    const denied = await h.call('GET', RULES, { token: tokenFor(['User.ReadWrite.All', 'Mail.Read']) });
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.' });
    expect(denied.body.error.innerError['request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const unknown = await h.call('GET', '/v1.0/users/nobody@contoso.com/mailFolders/inbox/messageRules', { token: READ });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'ErrorInvalidUser', message: "The requested user 'nobody@contoso.com' is invalid." });
    const guest = await h.call('GET', `/v1.0/users/${GUEST_ID}/mailFolders/inbox/messageRules`, { token: READ });
    expect(guest.status).toBe(404);
    expect(guest.body.error.code).toBe('MailboxNotEnabledForRESTAPI');
    expect((await h.call('GET', RULES)).status).toBe(401);
  });

  it('throttles per app and mailbox with Retry-After (outlookPer10Minutes)', async () => {
    const { h } = setup({ graph: { throttling: { outlookPer10Minutes: 2 } } });
    expect((await h.call('GET', RULES, { token: READ })).status).toBe(200);
    expect((await h.call('GET', RULES, { token: READ })).status).toBe(200);
    const throttled = await h.call('GET', RULES, { token: READ });
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers?.['retry-after'])).toBeGreaterThan(0);
    // another mailbox has its own budget
    expect((await h.call('GET', '/v1.0/users/gadmin@contoso.com/mailFolders/inbox/messageRules', { token: READ })).status).toBe(200);
    h.ctx.clock.advance(600_000);
    expect((await h.call('GET', RULES, { token: READ })).status).toBe(200);
  });
});

describe('PATCH, POST and DELETE messageRules', () => {
  it('disables a rule: 200 with the whole rule, state changed', async () => {
    const { tenant, h } = setup();
    const res = await h.call('PATCH', `${RULES}/AQAAAAAAAA1=`, { token: WRITE, body: { isEnabled: false } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: 'AQAAAAAAAA1=', isEnabled: false, actions: { forwardTo: [{ emailAddress: { address: 'x@evil.example' } }] } });
    expect(tenant.users[0].inboxRules!.find((r) => r.id === 'AQAAAAAAAA1=')!.isEnabled).toBe(false);
  });

  it('needs MailboxSettings.ReadWrite to change anything', async () => {
    const { tenant, h } = setup();
    for (const [method, path, body] of [
      ['PATCH', `${RULES}/AQAAAAAAAA1=`, { isEnabled: false }],
      ['DELETE', `${RULES}/AQAAAAAAAA1=`, undefined],
      ['POST', RULES, { displayName: 'x', sequence: 9 }],
    ] as const) {
      const res = await h.call(method, path, { token: READ, body });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('ErrorAccessDenied');
    }
    expect(tenant.users[0].inboxRules).toHaveLength(4);
    expect(tenant.users[0].inboxRules![0].isEnabled).toBe(true);
  });

  it('refuses unknown properties, wrong types and bad recipients with 400', async () => {
    const { h } = setup();
    const cases: Array<[unknown, string]> = [
      [{ shoeSize: 9 }, 'RequestBodyRead'],
      [{ isEnabled: 'no' }, 'RequestBodyRead'],
      [{ sequence: 0 }, 'ErrorInvalidRequest'],
      [{ actions: [] }, 'RequestBodyRead'],
      [{ actions: { forwardTo: [{ emailAddress: { address: 'not-an-address' } }] } }, 'ErrorInvalidRecipients'],
      [[1, 2], 'RequestBodyRead'],
    ];
    for (const [body, code] of cases) {
      const res = await h.call('PATCH', `${RULES}/AQAAAAAAAA1=`, { token: WRITE, body });
      expect([res.status, res.body.error.code]).toEqual([400, code]);
    }
  });

  it('creates a rule (201, new id, next sequence) that the list then shows; displayName is required', async () => {
    const { h } = setup();
    const body = {
      displayName: 'From partner',
      isEnabled: true,
      conditions: { senderContains: ['partner'] },
      actions: { redirectTo: [{ emailAddress: { address: 'ops@contoso.com' } }] },
    };
    const res = await h.call('POST', RULES, { token: WRITE, body });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ ...body, sequence: 5, hasError: false, isReadOnly: false });
    expect(res.body.id).toMatch(/^AQAAA/);
    const list = await h.call('GET', RULES, { token: READ });
    expect(list.body.value.map((r: { id: string }) => r.id)).toContain(res.body.id);
    const missingName = await h.call('POST', RULES, { token: WRITE, body: { sequence: 1 } });
    expect([missingName.status, missingName.body.error.code]).toEqual([400, 'ErrorInvalidRequest']);
  });

  it('deletes a rule with 204; a second delete answers 404; read-only rules cannot be changed', async () => {
    const { tenant, h } = setup();
    const res = await h.call('DELETE', `${RULES}/AQAAAAAAAA1=`, { token: WRITE });
    expect(res.status).toBe(204);
    expect(res.body).toBeUndefined();
    expect(tenant.users[0].inboxRules!.map((r) => r.id)).toEqual(['AQAAAAAAAA2=', 'AQAAAAAAAA3=', 'AQAAAAAAAA4=']);
    expect((await h.call('DELETE', `${RULES}/AQAAAAAAAA1=`, { token: WRITE })).body.error.code).toBe('ErrorItemNotFound');
    // the hidden rule cannot be deleted through Graph either
    expect((await h.call('DELETE', `${RULES}/AQAAAAAAAA3=`, { token: WRITE })).status).toBe(404);
    for (const method of ['DELETE', 'PATCH']) {
      const locked = await h.call(method, `${RULES}/AQAAAAAAAA4=`, { token: WRITE, body: method === 'PATCH' ? { isEnabled: false } : undefined });
      expect([locked.status, locked.body.error.code]).toEqual([400, 'ErrorInvalidRequest']);
    }
    expect(tenant.users[0].inboxRules!.find((r) => r.id === 'AQAAAAAAAA4=')!.isEnabled).toBe(true);
  });
});
