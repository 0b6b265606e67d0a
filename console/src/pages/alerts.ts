import { get, type Alert, type Incident, type Tenant } from '../api';
import { badge, field, h, link, replace, time, type Child } from '../dom';
import { Pager, pageSizeSelect } from '../pager';
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
  const size = pageSizeSelect();
  const query = (limit: number, cursor: string | undefined) => ({
    tenantId: tenant.select.value || undefined,
    severity: (severity.value || undefined) as never,
    limit,
    cursor,
  });
  const limit = () => Number(size.select.value);
  const incidents = new Pager<Incident>(
    {
      caption: 'Incidents',
      headers: ['Incident', 'Severity', 'Status', 'Alerts', 'Tenant', 'Created', 'Updated'],
      row: (i) => [
        i.displayName,
        badge(i.severity),
        badge(i.status),
        String(i.alertCount ?? 0),
        tenantName(list, i.tenantId),
        time(i.createdDateTime),
        time(i.lastUpdateDateTime),
      ],
      empty: 'No incident collected.',
      read: (n, cursor) => get('/v1/incidents', { query: query(n, cursor) }),
    },
    limit,
  );
  const alerts = new Pager<Alert>(
    {
      caption: 'Alerts',
      headers: ALERT_COLUMNS,
      row: (a) => alertRow(a, list),
      empty: 'No alert collected.',
      read: (n, cursor) => get('/v1/alerts', { query: query(n, cursor) }),
    },
    limit,
  );
  const error = h('div', {});
  const load = async () => {
    replace(error);
    await Promise.all([incidents.reload(), alerts.reload()]);
  };
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter alerts and incidents' },
    tenant.el,
    field('Severity', severity),
    size.el,
    h('button', { type: 'submit' }, 'Filter'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load().catch((err: Error) => replace(error, h('p', { class: 'error', role: 'alert' }, err.message)));
  });
  replace(
    main,
    h('h1', {}, 'Alerts and incidents'),
    form,
    error,
    h('section', { 'aria-labelledby': 'inc-h', class: 'incidents' }, h('h2', { id: 'inc-h' }, 'Incidents'), incidents.el),
    h('section', { 'aria-labelledby': 'al-h', class: 'alerts' }, h('h2', { id: 'al-h' }, 'Alerts'), alerts.el),
  );
  await load();
}

export const ALERT_COLUMNS = ['Alert', 'Severity', 'Status', 'Source', 'Entities', 'Tenant', 'Created'];

export function alertRow(a: Alert, list: Tenant[]): Child[] {
  return [a.title, badge(a.severity), badge(a.status), a.serviceSource, entities(a.raw), tenantName(list, a.tenantId), time(a.createdDateTime)];
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
