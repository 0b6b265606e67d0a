import { get } from '../api';
import { badge, field, h, replace, table, time } from '../dom';
import { tenantName, tenants, tenantSelect } from '../tenants-cache';
import { actionLink, actorName } from './common';

/** The containments board: who and what is contained now, since when, why, and when it is released. */
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
  const results = h('div', { 'aria-live': 'polite' });
  const load = async () => {
    const page = await get('/v1/containments', { query: { tenantId: tenant.select.value || undefined, kind: (kind.value || undefined) as never, limit: 100 } });
    replace(
      results,
      table(
        'Containments',
        ['Target', 'Kind', 'Containment', 'State', 'Tenant', 'Since', 'By', 'Reason', 'Release', 'Action'],
        page.items.map((c) => [
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
        ]),
        'Nothing is contained.',
      ),
    );
  };
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter containments' },
    tenant.el,
    field('Kind', kind),
    h('button', { type: 'submit' }, 'Filter'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load().catch((err: Error) => replace(results, h('p', { class: 'error', role: 'alert' }, err.message)));
  });
  replace(main, h('h1', {}, 'Containments'), form, results);
  await load();
}
