import { get, idempotencyKey, post, requestAction, type Action, type ActionRoute, type Containment } from '../api';
import { badge, button, field, h, replace, time, type Child } from '../dom';
import { Pager, pageSizeSelect } from '../pager';
import { session } from '../session';
import { tenantName, tenants, tenantSelect } from '../tenants-cache';
import { actionLink, actorName } from './common';

/** The route that requests each containment's inverse (`releasedWith`), and the path parameter naming its target. */
const RELEASE_ROUTES: Record<string, { route: ActionRoute | AppRoute; param: 'user' | 'device' | 'app' }> = {
  'user.release': { route: '/v1/tenants/{id}/users/{user}/release', param: 'user' },
  'user.enable': { route: '/v1/tenants/{id}/users/{user}/enable', param: 'user' },
  'user.remove-from-containment-group': { route: '/v1/tenants/{id}/users/{user}/remove-from-containment-group', param: 'user' },
  'device.release': { route: '/v1/tenants/{id}/devices/{device}/release', param: 'device' },
  'device.unrestrict-app-execution': { route: '/v1/tenants/{id}/devices/{device}/unrestrict-app-execution', param: 'device' },
  'app.enable': { route: '/v1/tenants/{id}/service-principals/{app}/enable', param: 'app' },
};
type AppRoute = '/v1/tenants/{id}/service-principals/{app}/enable' | '/v1/tenants/{id}/users/{user}/remove-from-containment-group';

const EXTEND_BY: Array<[string, string]> = [
  ['PT4H', '4 hours from now'],
  ['PT8H', '8 hours from now'],
  ['PT24H', '24 hours from now'],
  ['P7D', '7 days from now'],
];

type Intent = 'release' | 'extend' | 'keep';

/**
 * The containments board: who and what is contained now, since when, why, and when it is released; per
 * row, release it now (its inverse action, after a confirmation), or move its automatic release later
 * (extend) or cancel it (keep).
 */
export async function containmentsPage(main: HTMLElement): Promise<void> {
  const list = await tenants().catch(() => []);
  const tenant = tenantSelect(list, undefined, true);
  const kind = h(
    'select',
    { name: 'kind' },
    h('option', { value: '' }, 'Users and devices'),
    h('option', { value: 'user' }, 'Users'),
    h('option', { value: 'device' }, 'Devices'),
  );
  const size = pageSizeSelect();
  const results = h('div', { 'aria-live': 'polite' });
  const panel = h('div', {});
  const outcome = h('div', { role: 'status', 'aria-live': 'polite' });
  const pager: Pager<Containment> = new Pager<Containment>(
    {
      caption: 'Containments',
      headers: ['Target', 'Kind', 'Containment', 'State', 'Tenant', 'Since', 'By', 'Reason', 'Release', 'Action', 'Do'],
      row: (c) => [
        c.target.display ?? c.target.requested,
        c.kind,
        c.type,
        badge(c.state),
        tenantName(list, c.tenantId),
        time(c.since),
        actorName(c.requestedBy),
        c.reason,
        c.release ? [badge(c.release.status), ' ', time(c.release.scheduledAt)] : 'by hand',
        actionLink(c.actionId),
        rowButtons(c, (intent, opener) =>
          replace(
            panel,
            confirmPanel(c, intent, opener, panel, outcome, () => pager.refresh()),
          ),
        ),
      ],
      empty: 'Nothing is contained.',
      read: (limit, cursor) =>
        get('/v1/containments', { query: { tenantId: tenant.select.value || undefined, kind: (kind.value || undefined) as never, limit, cursor } }),
    },
    () => Number(size.select.value),
  );
  results.appendChild(pager.el);
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter containments' },
    tenant.el,
    field('Kind', kind),
    size.el,
    h('button', { type: 'submit' }, 'Filter'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    replace(panel);
    void pager.reload().catch((err: Error) => replace(results, h('p', { class: 'error', role: 'alert' }, err.message)));
  });
  replace(main, h('h1', {}, 'Containments'), form, outcome, panel, results);
  await pager.reload();
}

/** What the person may do with a row: release (analyst or responder: an analyst's request waits for approval); extend and keep (responder). */
function rowButtons(c: Containment, open: (intent: Intent, opener: HTMLButtonElement) => void): Child {
  const name = c.target.display ?? c.target.requested;
  const buttons: HTMLButtonElement[] = [];
  const add = (intent: Intent, label: string, aria: string) => {
    const b: HTMLButtonElement = button(label, () => open(intent, b), { 'aria-label': aria, 'data-intent': intent });
    buttons.push(b);
  };
  if (c.state !== 'released' && RELEASE_ROUTES[c.releasedWith] && session.any('analyst', 'responder')) add('release', 'Release now', `Release ${name} now`);
  if (c.release?.status === 'scheduled' && session.has('responder')) {
    add('extend', 'Extend', `Extend the containment of ${name}`);
    add('keep', 'Keep', `Keep ${name} contained (cancel the automatic release)`);
  }
  return buttons.length ? h('div', { class: 'row-buttons' }, buttons) : '—';
}

/** The confirmation of one intent: what will happen, a reason, Confirm or Cancel. Nothing is sent before Confirm. */
function confirmPanel(
  c: Containment,
  intent: Intent,
  opener: HTMLButtonElement,
  panel: HTMLElement,
  outcome: HTMLElement,
  reload: () => Promise<void>,
): HTMLElement {
  const name = c.target.display ?? c.target.requested;
  const reason = h('input', { type: 'text', name: 'reason', required: true, maxlength: 1000, placeholder: 'INC-1: all clear' });
  const window = h(
    'select',
    { name: 'extendBy' },
    EXTEND_BY.map(([v, l]) => h('option', { value: v }, l)),
  );
  const error = h('p', { class: 'error', role: 'alert' });
  const title = { release: `Release ${name} now?`, extend: `Extend the containment of ${name}?`, keep: `Keep ${name} contained?` }[intent];
  const what = {
    release: `Cordon requests ${c.releasedWith} on ${name} now${session.has('responder') ? '' : ' (a responder approves it first)'}; ${c.type} ends when it succeeds.`,
    extend: `The automatic release due ${c.release ? new Date(c.release.scheduledAt).toLocaleString() : ''} moves later, counted from now.`,
    keep: 'The automatic release is cancelled; the containment stays until someone releases it.',
  }[intent];
  const cancel = () => {
    replace(panel);
    opener.focus();
  };
  const form = h(
    'form',
    { class: 'card confirm', 'aria-labelledby': 'confirm-h' },
    h('h2', { id: 'confirm-h' }, title),
    h('p', {}, what),
    intent === 'extend' ? field('Release', window) : null,
    field('Reason (kept in the audit log)', reason),
    h(
      'div',
      { class: 'buttons' },
      h(
        'button',
        { type: 'submit', class: intent === 'release' ? 'danger' : 'primary' },
        { release: 'Confirm release', extend: 'Confirm extension', keep: 'Confirm keep' }[intent],
      ),
      button('Cancel', cancel),
    ),
    error,
  );
  form.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') cancel();
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!reason.value.trim()) {
      error.textContent = 'A reason is required.';
      reason.focus();
      return;
    }
    const submit = form.querySelector('button[type=submit]') as HTMLButtonElement;
    submit.disabled = true;
    error.textContent = '';
    send(c, intent, reason.value.trim(), window.value)
      .then(async (a) => {
        replace(panel);
        // The board is read again before the outcome is shown, so the outcome and the rows agree; a failed
        // read leaves the rows as they were (the outcome still links to the action).
        const stale = await reload().then(
          () => false,
          () => true,
        );
        replace(
          outcome,
          h(
            'p',
            { class: 'ok outcome' },
            describe(intent, name, a),
            ' ',
            actionLink(a.id, 'Open the action'),
            stale ? ' (the board could not be read again)' : null,
          ),
        );
        (outcome.querySelector('a') as HTMLAnchorElement | null)?.focus();
      })
      .catch((err: unknown) => {
        submit.disabled = false;
        error.textContent = `Refused: ${err instanceof Error ? err.message : String(err)}`;
      });
  });
  queueMicrotask(() => reason.focus());
  return form;
}

function send(c: Containment, intent: Intent, reason: string, extendBy: string): Promise<Action> {
  const headers = { 'Idempotency-Key': idempotencyKey() };
  if (intent === 'extend') return post('/v1/actions/{id}/extend', { path: { id: c.actionId }, body: { reason, releaseAfter: extendBy }, headers });
  if (intent === 'keep') return post('/v1/actions/{id}/keep', { path: { id: c.actionId }, body: { reason }, headers });
  const r = RELEASE_ROUTES[c.releasedWith];
  // Prefer: wait, so the outcome shown is the release's end in the common case (a few seconds at Microsoft).
  return requestAction(r.route as ActionRoute, { id: c.tenantId, [r.param]: c.target.id } as never, { reason }, { ...headers, Prefer: 'wait=15' });
}

function describe(intent: Intent, name: string, a: Action): string {
  if (intent === 'extend')
    return `Extended: ${name} is released automatically at ${a.release ? new Date((a.release as { scheduledAt: string }).scheduledAt).toLocaleString() : '?'}.`;
  if (intent === 'keep') return `Kept: ${name} stays contained; the automatic release is cancelled.`;
  const status = a.status.replace(/_/g, ' ');
  return a.status === 'awaiting_approval' ? `Release of ${name} requested: waiting for a responder's approval.` : `Release of ${name}: ${a.type} ${status}.`;
}
