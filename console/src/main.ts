/** The Cordon console: sign in with an API key, then the pages in the navigation (hash routes). */
import { ApiError, getUntyped, type WhoAmI } from './api';
import { button, field, h, replace } from './dom';
import { session } from './session';
import { actionPage, actionsPage } from './pages/actions';
import { approvalsPage } from './pages/approvals';
import { auditPage } from './pages/audit';
import { containmentsPage } from './pages/containments';
import { findPage } from './pages/find';
import { alertsPage } from './pages/alerts';
import { tenantsPage } from './pages/tenants';

export interface Page {
  /** Draws into `main`; returns a function that stops its polling when the person leaves the page. */
  (main: HTMLElement, params: string[]): Promise<(() => void) | void>;
}

interface Route {
  path: string;
  label: string;
  page: Page;
  /** Roles that may use the page (the server enforces the same). */
  roles: Array<WhoAmI['roles'][number]>;
}

const ROUTES: Route[] = [
  { path: 'tenants', label: 'Tenants', page: tenantsPage, roles: ['analyst', 'responder', 'admin'] },
  { path: 'find', label: 'Find and act', page: findPage, roles: ['analyst', 'responder'] },
  { path: 'approvals', label: 'Approvals', page: approvalsPage, roles: ['responder'] },
  {
    path: 'actions',
    label: 'Actions',
    page: (m, p) => (p[0] && p[0] !== 'target' ? actionPage(m, p) : actionsPage(m, p)),
    roles: ['auditor', 'analyst', 'responder', 'admin'],
  },
  { path: 'containments', label: 'Containments', page: containmentsPage, roles: ['analyst', 'responder', 'admin'] },
  { path: 'alerts', label: 'Alerts and incidents', page: alertsPage, roles: ['analyst', 'responder', 'admin'] },
  { path: 'audit', label: 'Audit', page: auditPage, roles: ['auditor', 'admin'] },
];

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const whoEl = document.getElementById('who') as HTMLElement;
let leave: (() => void) | void;

function allowed(): Route[] {
  return ROUTES.filter((r) => session.any(...r.roles));
}

function drawChrome(current: string): void {
  const who = session.who();
  replace(
    nav,
    who
      ? h(
          'ul',
          {},
          allowed().map((r) =>
            h(
              'li',
              {},
              h(
                'a',
                {
                  href: `#/${r.path}`,
                  'aria-current': r.path === current ? 'page' : null,
                  // The link of the page shown draws it anew (the same hash fires no hashchange).
                  onclick: () => {
                    if (location.hash === `#/${r.path}`) void route();
                  },
                },
                r.label,
              ),
            ),
          ),
        )
      : null,
  );
  replace(
    whoEl,
    who
      ? [
          h('span', {}, `${who.name} · ${who.roles.join(', ')}`),
          button('Sign out', () => {
            session.clear();
            location.hash = '';
            void route();
          }),
        ]
      : null,
  );
}

function signIn(message?: string): void {
  drawChrome('');
  const input = h('input', { type: 'password', name: 'apiKey', autocomplete: 'off', spellcheck: 'false', required: true, placeholder: 'cdn_…' });
  const error = h('p', { class: 'error', role: 'alert' }, message ?? '');
  const form = h(
    'form',
    { class: 'card signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in to Cordon'),
    h('p', {}, 'Paste your Cordon API key. It stays in this browser tab only (sessionStorage) and is sent to this server as a Bearer token.'),
    field('API key', input),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    error,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    session.set(input.value.trim());
    void start().catch((err: unknown) => {
      session.clear();
      signIn(
        err instanceof ApiError && err.status === 401
          ? 'That key was not accepted (missing, revoked or expired).'
          : String(err instanceof Error ? err.message : err),
      );
    });
  });
  replace(main, form);
  input.focus();
}

async function start(): Promise<void> {
  session.setWho(await getUntyped<WhoAmI>('/v1/api-keys/me'));
  // Who may act lands on Find and act (isolating a user is the 3 a.m. task); others on their first page.
  const landing = allowed().find((r) => r.path === 'find') ?? allowed()[0];
  if (!location.hash || location.hash === '#' || location.hash === '#/') location.hash = `#/${landing?.path ?? 'actions'}`;
  await route();
}

async function route(): Promise<void> {
  if (leave) leave();
  leave = undefined;
  if (!session.key()) return signIn();
  if (!session.who()) return start();
  const [path, ...params] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const r = allowed().find((x) => x.path === path) ?? allowed()[0];
  if (!r) {
    drawChrome('');
    replace(main, h('p', { class: 'error', role: 'alert' }, 'Your key has no role that the console serves.'));
    return;
  }
  drawChrome(r.path);
  replace(main, h('p', { class: 'loading', role: 'status' }, 'Loading…'));
  document.title = `${r.label} · Cordon`;
  try {
    leave = await r.page(main, params);
  } catch (err) {
    replace(main, h('h1', {}, r.label), h('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err)));
  }
  main.focus({ preventScroll: true });
}

session.whenUnauthorized(() => {
  session.clear();
  signIn('Your session ended: the key was refused. Paste it again or use another.');
});
// The skip link moves focus to the page's content without touching the hash (the hash is the route).
document.querySelector('.skip')?.addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', () => void route());
void route().catch((err: unknown) => signIn(err instanceof Error ? err.message : String(err)));
