import { ApiError, get, idempotencyKey, requestAction, type Action, type ActionBody, type ActionRoute, type Device, type Schemas, type Tenant } from '../api';
import { badge, button, field, h, replace, table, time } from '../dom';
import { tenants, tenantSelect } from '../tenants-cache';
import { actionsTable } from './actions';

interface Offer {
  verb: string;
  label: string;
  route: ActionRoute;
  /** Takes releaseAfter (time-boxed containment). */
  timeboxed: boolean;
}

const USER_ACTIONS: Offer[] = [
  { verb: 'isolate', label: 'Isolate (disable sign-in, revoke sessions, mark compromised)', route: '/v1/tenants/{id}/users/{user}/isolate', timeboxed: true },
  { verb: 'disable', label: 'Disable sign-in', route: '/v1/tenants/{id}/users/{user}/disable', timeboxed: true },
  { verb: 'revoke-sessions', label: 'Revoke sessions', route: '/v1/tenants/{id}/users/{user}/revoke-sessions', timeboxed: false },
  { verb: 'confirm-compromised', label: 'Confirm compromised', route: '/v1/tenants/{id}/users/{user}/confirm-compromised', timeboxed: false },
  { verb: 'release', label: 'Release (undo isolate)', route: '/v1/tenants/{id}/users/{user}/release', timeboxed: false },
  { verb: 'enable', label: 'Enable sign-in', route: '/v1/tenants/{id}/users/{user}/enable', timeboxed: false },
];
const DEVICE_ACTIONS: Offer[] = [
  { verb: 'isolate', label: 'Isolate the device (Defender)', route: '/v1/tenants/{id}/devices/{device}/isolate', timeboxed: true },
  { verb: 'release', label: 'Release from isolation', route: '/v1/tenants/{id}/devices/{device}/release', timeboxed: false },
  { verb: 'antivirus-scan', label: 'Antivirus scan (quick)', route: '/v1/tenants/{id}/devices/{device}/antivirus-scan', timeboxed: false },
  { verb: 'restrict-app-execution', label: 'Restrict app execution', route: '/v1/tenants/{id}/devices/{device}/restrict-app-execution', timeboxed: true },
  { verb: 'unrestrict-app-execution', label: 'Remove app restriction', route: '/v1/tenants/{id}/devices/{device}/unrestrict-app-execution', timeboxed: false },
  {
    verb: 'collect-investigation-package',
    label: 'Collect investigation package',
    route: '/v1/tenants/{id}/devices/{device}/collect-investigation-package',
    timeboxed: false,
  },
];
const RELEASE_AFTER: Array<[string, string]> = [
  ['', 'Never (until released by hand)'],
  ['PT1H', '1 hour'],
  ['PT4H', '4 hours'],
  ['PT24H', '24 hours'],
  ['P7D', '7 days'],
];

type Target = { kind: 'user'; upn: string } | { kind: 'device'; id: string; name: string };

/** Find a user or device in a tenant, see what Cordon knows of it, preview an action (dry run), then run it. */
export async function findPage(main: HTMLElement): Promise<void> {
  const list = await tenants();
  if (list.length === 0) {
    replace(main, h('h1', {}, 'Find and act'), h('p', { class: 'empty' }, 'No tenant is registered yet.'));
    return;
  }
  const tenant = tenantSelect(list, list[0].id, false);
  const upn = h('input', { type: 'text', name: 'upn', autocomplete: 'off', spellcheck: 'false', placeholder: 'alice@contoso.example', required: true });
  const deviceName = h('input', { type: 'text', name: 'deviceName', autocomplete: 'off', spellcheck: 'false', placeholder: 'desktop-' });
  const found = h('div', { 'aria-live': 'polite' });
  const act = h('div', {});

  const userForm = h(
    'form',
    { class: 'card', role: 'search', 'aria-labelledby': 'find-user-h' },
    h('h2', { id: 'find-user-h' }, 'A user'),
    field('User principal name', upn, 'The sign-in name, for example alice@contoso.example.'),
    h('button', { type: 'submit', class: 'primary' }, 'Find user'),
  );
  const deviceForm = h(
    'form',
    { class: 'card', role: 'search', 'aria-labelledby': 'find-device-h' },
    h('h2', { id: 'find-device-h' }, 'A device'),
    field('Device name (starts with)', deviceName),
    h('button', { type: 'submit' }, 'Find devices'),
  );

  const show = (t: Target) => void showTarget(found, act, list, tenant.select.value, t);
  userForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (upn.value.trim()) show({ kind: 'user', upn: upn.value.trim() });
  });
  deviceForm.addEventListener('submit', (e) => {
    e.preventDefault();
    void findDevices(found, act, tenant.select.value, deviceName.value.trim(), show);
  });
  tenant.select.addEventListener('change', () => {
    replace(found);
    replace(act);
  });
  replace(main, h('h1', {}, 'Find and act'), tenant.el, h('div', { class: 'two' }, userForm, deviceForm), found, act);
  upn.focus();
}

async function findDevices(found: HTMLElement, act: HTMLElement, tenantId: string, name: string, show: (t: Target) => void): Promise<void> {
  replace(act);
  try {
    const page = await get('/v1/tenants/{id}/devices', { path: { id: tenantId }, query: { name: name || undefined, limit: 50 } });
    replace(
      found,
      h('h2', {}, 'Devices'),
      table(
        'Devices in Defender for Endpoint',
        ['Name', 'OS', 'Health', 'Risk', 'Exposure', 'Last seen', ''],
        page.items.map((d: Device) => [
          d.computerDnsName,
          `${d.osPlatform} ${d.osVersion ?? ''}`,
          d.healthStatus,
          d.riskScore,
          d.exposureLevel,
          time(d.lastSeen),
          button('Choose', () => show({ kind: 'device', id: d.machineId, name: d.computerDnsName ?? d.machineId }), {
            'aria-label': `Choose ${d.computerDnsName ?? d.machineId}`,
          }),
        ]),
        'No device matches.',
      ),
    );
  } catch (err) {
    replace(found, h('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err)));
  }
}

async function showTarget(found: HTMLElement, act: HTMLElement, list: Tenant[], tenantId: string, t: Target): Promise<void> {
  const label = t.kind === 'user' ? t.upn : t.name;
  const containments = h('div', {}, h('p', { class: 'loading' }, 'Reading containments…'));
  const history = h('div', {}, h('p', { class: 'loading' }, 'Reading actions…'));
  const persistence = h('div', {});
  const signIns = h('div', { class: 'sign-ins' }, h('p', { class: 'loading' }, 'Reading sign-ins…'));
  const alerts = h('div', { class: 'named-alerts' }, h('p', { class: 'loading' }, 'Reading alerts…'));
  replace(
    found,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'target-h' },
      h('h2', { id: 'target-h' }, t.kind === 'user' ? 'User ' : 'Device ', h('span', { class: 'target' }, label)),
      persistence,
      h('h3', {}, 'Active containments'),
      containments,
      t.kind === 'user' ? [h('h3', {}, 'Recent sign-ins'), signIns] : null,
      h('h3', {}, 'Alerts naming it'),
      alerts,
      h('h3', {}, 'Actions on it'),
      history,
    ),
  );
  replace(act, actionForm(tenantId, t));
  const same = (s: string | undefined | null) =>
    (s ?? '').toLowerCase() === (t.kind === 'user' ? t.upn : t.id).toLowerCase() || (t.kind === 'device' && (s ?? '').toLowerCase() === t.name.toLowerCase());
  get('/v1/containments', { query: { tenantId, kind: t.kind as never, limit: 100 } })
    .then((page) => {
      const mine = page.items.filter((c) => same(c.target.requested) || same(c.target.display) || same(c.target.id));
      replace(
        containments,
        table(
          'Active containments of this target',
          ['Kind', 'State', 'Since', 'Reason', 'Release'],
          mine.map((c) => [c.type, badge(c.state), time(c.since), c.reason, c.release ? [badge(c.release.status), ' ', time(c.release.scheduledAt)] : '—']),
          'Not contained.',
        ),
      );
    })
    .catch((err: Error) => replace(containments, h('p', { class: 'error' }, err.message)));
  get('/v1/actions', { query: { tenantId, target: t.kind === 'user' ? t.upn : t.id, limit: 20 } })
    .then((page) => replace(history, actionsTable(page.items, list)))
    .catch((err: Error) => replace(history, h('p', { class: 'error' }, err.message)));
  get('/v1/alerts', { query: { tenantId, ...(t.kind === 'user' ? { user: t.upn } : { device: t.id }), limit: 20 } })
    .then((page) =>
      replace(
        alerts,
        table(
          'Collected alerts whose evidence names it, newest first',
          ['Alert', 'Severity', 'Status', 'Source', 'Created'],
          page.items.map((a) => [a.title, badge(a.severity), badge(a.status), a.serviceSource, time(a.createdDateTime)]),
          'No collected alert names it.',
        ),
      ),
    )
    .catch((err: Error) => replace(alerts, h('p', { class: 'error' }, err.message)));
  if (t.kind === 'user') {
    get('/v1/events', { query: { tenantId, source: SIGN_INS, user: t.upn, limit: 10 } })
      .then((page) => replace(signIns, signInsTable(page.items)))
      .catch((err: Error) => replace(signIns, h('p', { class: 'error' }, err.message)));
    get('/v1/tenants/{id}/users/{user}/inbox-rules', { path: { id: tenantId, user: t.upn } })
      .then((r) => {
        const risky = r.rules.filter((x) => x.risk?.risky).length;
        replace(persistence, h('p', {}, `Found in Entra ID (object id `, h('code', {}, r.user.id), `). Inbox rules: ${r.rules.length}, ${risky} risky.`));
      })
      .catch((err: unknown) =>
        replace(
          persistence,
          h(
            'p',
            { class: err instanceof ApiError && err.status === 404 ? 'error' : 'hint' },
            err instanceof ApiError && err.status === 404
              ? `Not found in this tenant: ${err.message}`
              : `Mailbox not read: ${err instanceof Error ? err.message : String(err)}`,
          ),
        ),
      );
  }
}

/** The source of collected Entra sign-in logs (GET /v1/events?source=…). */
const SIGN_INS = 'entra-sign-ins';

/** Collected Entra sign-ins: when, from where, which app, and how it ended (Graph signIn: status.errorCode 0 is success). */
function signInsTable(items: Schemas['EventResponse'][]): HTMLElement {
  return table(
    'Sign-ins Cordon collected, newest first',
    ['When', 'Result', 'App', 'IP address', 'Location', 'Risk'],
    items.map((e) => {
      const raw = e.raw as {
        appDisplayName?: string;
        status?: { errorCode?: number; failureReason?: string };
        location?: { city?: string; countryOrRegion?: string };
        riskLevelDuringSignIn?: string;
      };
      const failed = raw.status?.errorCode !== undefined && raw.status.errorCode !== 0;
      return [
        time(e.occurredAt),
        failed ? [badge('failed'), ' ', raw.status?.failureReason ?? `error ${raw.status?.errorCode}`] : badge('succeeded'),
        raw.appDisplayName ?? '—',
        e.clientIp ?? '—',
        [raw.location?.city, raw.location?.countryOrRegion].filter(Boolean).join(', ') || '—',
        raw.riskLevelDuringSignIn ?? '—',
      ];
    }),
    'No sign-in collected for this user (Entra sign-in logs need Entra ID P1/P2).',
  );
}

function actionForm(tenantId: string, t: Target): HTMLElement {
  const offers = t.kind === 'user' ? USER_ACTIONS : DEVICE_ACTIONS;
  const label = t.kind === 'user' ? t.upn : t.name;
  const verb = h(
    'select',
    { name: 'action' },
    offers.map((o) => h('option', { value: o.verb }, o.label)),
  );
  const reason = h('input', { type: 'text', name: 'reason', required: true, maxlength: 1000, placeholder: 'INC-1: impossible travel' });
  const ticket = h('input', { type: 'text', name: 'ticket', maxlength: 200, placeholder: 'INC-1' });
  const releaseAfter = h(
    'select',
    { name: 'releaseAfter' },
    RELEASE_AFTER.map(([v, l]) => h('option', { value: v }, l)),
  );
  const releaseField = field('Release automatically after', releaseAfter, 'Time-boxed containment: Cordon releases it itself.');
  const preview = h('div', { 'aria-live': 'polite' });
  const runBtn = h('button', { type: 'button', class: 'danger', disabled: true }, 'Run for real');
  let planned: { key: string; body: ActionBody; offer: Offer } | null = null;

  const offer = () => offers.find((o) => o.verb === verb.value)!;
  const body = (): ActionBody => ({
    reason: reason.value.trim(),
    ticket: ticket.value.trim() || undefined,
    releaseAfter: offer().timeboxed && releaseAfter.value ? releaseAfter.value : undefined,
  });
  const path = () => (t.kind === 'user' ? { id: tenantId, user: t.upn } : { id: tenantId, device: t.id });
  const invalidate = () => {
    planned = null;
    runBtn.disabled = true;
    releaseField.hidden = !offer().timeboxed;
  };
  for (const el of [verb, reason, ticket, releaseAfter]) el.addEventListener('input', invalidate);
  verb.addEventListener('change', invalidate);

  const form = h(
    'form',
    { class: 'card act', 'aria-labelledby': 'act-h' },
    h('h2', { id: 'act-h' }, 'Act on ', h('span', { class: 'target' }, label)),
    field('Action', verb),
    field('Reason (required; shown to approvers, kept in the audit log)', reason),
    field('Ticket', ticket),
    releaseField,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Preview (dry run)'), runBtn),
    preview,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!reason.value.trim()) {
      replace(preview, h('p', { class: 'error', role: 'alert' }, 'A reason is required.'));
      reason.focus();
      return;
    }
    const b = body();
    const o = offer();
    replace(preview, h('p', { role: 'status' }, 'Asking for a dry run…'));
    requestAction(o.route, path(), { ...b, dryRun: true }, { Prefer: 'wait=15', 'Idempotency-Key': idempotencyKey() })
      .then((a) => {
        drawPlan(preview, a);
        if (a.status === 'succeeded' || a.status === 'awaiting_approval') {
          planned = { key: idempotencyKey(), body: b, offer: o };
          runBtn.disabled = false;
          runBtn.focus();
        }
      })
      .catch((err: unknown) => replace(preview, h('p', { class: 'error', role: 'alert' }, `Refused: ${err instanceof Error ? err.message : String(err)}`)));
  });
  runBtn.addEventListener('click', () => {
    if (!planned) return;
    const p = planned;
    runBtn.disabled = true;
    // The same Idempotency-Key if this click is repeated: Microsoft is asked once.
    requestAction(p.offer.route, path(), p.body, { 'Idempotency-Key': p.key })
      .then((a) => {
        location.hash = `#/actions/${encodeURIComponent(a.id)}`;
      })
      .catch((err: unknown) => {
        runBtn.disabled = false;
        replace(preview, h('p', { class: 'error', role: 'alert' }, `Refused: ${err instanceof Error ? err.message : String(err)}`));
      });
  });
  invalidate();
  return form;
}

function drawPlan(el: HTMLElement, a: Action): void {
  const result = (a.result ?? {}) as { plan?: Array<{ step: string; changes?: boolean; wouldChange?: string; note?: string }> };
  const plan = result.plan ?? [];
  replace(
    el,
    h('h3', {}, 'Dry run: ', badge(a.status)),
    a.status === 'awaiting_approval'
      ? h('p', { class: 'notice' }, 'Your role needs a responder to approve; running it for real will wait for approval.')
      : null,
    a.error ? h('p', { class: 'error', role: 'alert' }, JSON.stringify(a.error)) : null,
    plan.length
      ? h(
          'ol',
          { class: 'plan' },
          plan.map((s) => h('li', {}, h('strong', {}, s.step), ': ', s.wouldChange ?? (s.changes === false ? 'no change needed' : (s.note ?? 'will run')))),
        )
      : h('p', {}, 'Nothing would change.'),
    h('p', { class: 'hint' }, 'Nothing was changed. Check the plan, then run it for real.'),
  );
}
