import { get } from '../api';
import { badge, field, h, link, replace, table, time } from '../dom';
import { tenantName, tenants, tenantSelect } from '../tenants-cache';

const SEVERITIES = ['high', 'medium', 'low', 'informational'];

/** Collected alerts and incidents (Microsoft Graph security), newest first, with the entities they name. */
export async function alertsPage(main: HTMLElement): Promise<void> {
  const list = await tenants().catch(() => []);
  const tenant = tenantSelect(list, undefined, true);
  const severity = h(
    'select',
    { name: 'severity' },
    h('option', { value: '' }, 'Any severity'),
    SEVERITIES.map((s) => h('option', { value: s }, s)),
  );
  const incidents = h('section', { 'aria-labelledby': 'inc-h' });
  const alerts = h('section', { 'aria-labelledby': 'al-h' });
  const load = async () => {
    const q = { tenantId: tenant.select.value || undefined, severity: (severity.value || undefined) as never, limit: 50 };
    const [inc, al] = await Promise.all([get('/v1/incidents', { query: q }), get('/v1/alerts', { query: q })]);
    replace(
      incidents,
      h('h2', { id: 'inc-h' }, 'Incidents'),
      table(
        'Incidents',
        ['Incident', 'Severity', 'Status', 'Alerts', 'Tenant', 'Created', 'Updated'],
        inc.items.map((i) => [
          i.displayName,
          badge(i.severity),
          badge(i.status),
          String(i.alertCount ?? 0),
          tenantName(list, i.tenantId),
          time(i.createdDateTime),
          time(i.lastUpdateDateTime),
        ]),
        'No incident collected.',
      ),
    );
    replace(
      alerts,
      h('h2', { id: 'al-h' }, 'Alerts'),
      table(
        'Alerts',
        ['Alert', 'Severity', 'Status', 'Source', 'Entities', 'Tenant', 'Created'],
        al.items.map((a) => [
          a.title,
          badge(a.severity),
          badge(a.status),
          a.serviceSource,
          entities(a.raw),
          tenantName(list, a.tenantId),
          time(a.createdDateTime),
        ]),
        'No alert collected.',
      ),
    );
  };
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter alerts and incidents' },
    tenant.el,
    field('Severity', severity),
    h('button', { type: 'submit' }, 'Filter'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load().catch((err: Error) => replace(alerts, h('p', { class: 'error', role: 'alert' }, err.message)));
  });
  replace(main, h('h1', {}, 'Alerts and incidents'), form, incidents, alerts);
  await load();
}

/** The users and devices an alert names (Graph's evidence list), each linking to its actions. */
function entities(raw: unknown): HTMLElement | string {
  const evidence = ((raw as { evidence?: unknown[] } | null)?.evidence ?? []) as Array<{
    userAccount?: { userPrincipalName?: string; accountName?: string };
    deviceDnsName?: string;
    mdeDeviceId?: string;
  }>;
  const names = new Set<string>();
  for (const e of evidence) {
    const upn = e.userAccount?.userPrincipalName;
    if (upn) names.add(upn);
    if (e.deviceDnsName) names.add(e.deviceDnsName);
  }
  if (names.size === 0) return '—';
  return h(
    'ul',
    { class: 'inline' },
    [...names].map((n) => h('li', {}, link(`#/actions/target/${encodeURIComponent(n)}`, n))),
  );
}
