import { get, post, type Capabilities, type Tenant } from '../api';
import { badge, button, h, replace, table, time } from '../dom';
import { session } from '../session';
import { tenants } from '../tenants-cache';

/** Each tenant's connection and capabilities: what works, and for what does not, the permission to grant. */
export async function tenantsPage(main: HTMLElement): Promise<void> {
  const list = await tenants(true);
  replace(
    main,
    h('h1', {}, 'Tenants'),
    list.length === 0
      ? h('p', { class: 'empty' }, 'No tenant is registered yet. An admin registers one with POST /v1/tenants (see the README, "Onboarding a tenant").')
      : null,
    list.map((t) => tenantCard(t)),
  );
}

function connectionOf(t: Tenant): string {
  const c = t.connection as { status?: string } | undefined;
  return c?.status ?? 'unknown';
}

function tenantCard(t: Tenant): HTMLElement {
  const caps = h('div', { class: 'caps' }, h('p', { class: 'loading', role: 'status' }, 'Reading capabilities…'));
  const card = h(
    'section',
    { class: 'card', 'aria-labelledby': `t-${t.id}` },
    h('h2', { id: `t-${t.id}` }, t.displayName, ' ', badge(t.enabled ? connectionOf(t) : 'disabled')),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Microsoft tenant id'),
      h('dd', {}, h('code', {}, t.tenantId)),
      h('dt', {}, 'Cordon id'),
      h('dd', {}, h('code', {}, t.id)),
      h('dt', {}, 'Cloud'),
      h('dd', {}, t.cloud),
    ),
    session.any('analyst', 'responder', 'admin')
      ? button(
          'Check capabilities again',
          () =>
            void post('/v1/tenants/{id}/capabilities/refresh', { path: { id: t.id } })
              .then((c) => drawCaps(caps, c as unknown as Capabilities))
              .catch((e: Error) => replace(caps, h('p', { class: 'error', role: 'alert' }, e.message))),
          { 'aria-label': `Check capabilities of ${t.displayName} again` },
        )
      : null,
    caps,
  );
  get('/v1/tenants/{id}/capabilities', { path: { id: t.id } })
    .then((c) => drawCaps(caps, c))
    .catch((e: Error) => replace(caps, h('p', { class: 'error', role: 'alert' }, e.message)));
  return card;
}

function drawCaps(el: HTMLElement, c: Capabilities): void {
  replace(
    el,
    h('p', {}, 'Connection: ', badge(c.connection), c.connectionDetail ? ` ${c.connectionDetail}` : ''),
    table(
      'Capabilities',
      ['Capability', 'Status', 'What to do', 'Checked'],
      c.capabilities.map((x) => [h('code', {}, x.capability), badge(x.status), x.detail ?? '', time(x.checkedAt)]),
      'No capability was checked yet.',
    ),
  );
}
