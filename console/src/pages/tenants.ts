import { get, post, type Capabilities, type Schemas, type Tenant } from '../api';
import { badge, button, h, replace, table, time } from '../dom';
import { session } from '../session';
import { tenants } from '../tenants-cache';

type Stream = Schemas['CollectionStreamResponse'];

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
  const collection = h('div', { class: 'collection' }, h('p', { class: 'loading', role: 'status' }, 'Reading collection…'));
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
    h('h3', {}, 'Collection'),
    collection,
  );
  get('/v1/tenants/{id}/collection', { path: { id: t.id } })
    .then((c) => replace(collection, collectionTable(t, c.sources)))
    .catch((e: Error) => replace(collection, h('p', { class: 'error', role: 'alert' }, e.message)));
  get('/v1/tenants/{id}/capabilities', { path: { id: t.id } })
    .then((c) => drawCaps(caps, c))
    .catch((e: Error) => replace(caps, h('p', { class: 'error', role: 'alert' }, e.message)));
  return card;
}

function drawCaps(el: HTMLElement, c: Capabilities): void {
  const counts = new Map<string, number>();
  for (const x of c.capabilities) counts.set(x.status, (counts.get(x.status) ?? 0) + 1);
  // What needs doing first: forbidden (a permission to grant), unlicensed, unreachable; what works is folded away.
  const order = (s: string) => ['forbidden', 'unlicensed', 'unreachable'].indexOf(s) + 1 || 9;
  const byName = (a: { capability: string }, b: { capability: string }) => a.capability.localeCompare(b.capability);
  const todo = c.capabilities.filter((x) => x.status !== 'available').sort((a, b) => order(a.status) - order(b.status) || byName(a, b));
  const working = c.capabilities.filter((x) => x.status === 'available').sort(byName);
  replace(
    el,
    h('p', {}, 'Connection: ', badge(c.connection), c.connectionDetail ? ` ${c.connectionDetail}` : ''),
    h(
      'p',
      { class: 'summary' },
      [...counts].map(([s, n]) => [badge(s), ` ${n}  `]),
    ),
    todo.length
      ? table(
          'Capabilities that need something: the permission to grant or the licence missing',
          ['Capability', 'Status', 'What to do', 'Checked'],
          todo.map((x) => [h('code', {}, x.capability), badge(x.status), x.detail ?? '', time(x.checkedAt)]),
        )
      : h('p', { class: 'ok' }, 'Every capability is available.'),
    working.length
      ? h(
          'details',
          {},
          h('summary', {}, `${working.length} capabilities available`),
          h(
            'ul',
            { class: 'working' },
            working.map((x) => h('li', {}, h('code', {}, x.capability), ' ', time(x.checkedAt))),
          ),
        )
      : null,
  );
}

/** Seconds as the largest whole units a person reads at a glance: "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return m % 60 ? `${hrs} h ${m % 60} min` : `${hrs} h`;
  const d = Math.floor(hrs / 24);
  return hrs % 24 ? `${d} d ${hrs % 24} h` : `${d} d`;
}

/**
 * Per source: last success, lag (now minus the newest record stored), and, while the last run was
 * throttled, until when (the runner sets the stream's next run to the resume time Microsoft asked for).
 * Sources switched off are named in one line under the table: they have nothing to show.
 */
function collectionTable(t: Tenant, sources: Stream[]): HTMLElement[] {
  const byName = [...sources].sort((a, b) => a.stream.localeCompare(b.stream));
  const shown = byName.filter((s) => s.state !== 'disabled');
  const off = byName.filter((s) => s.state === 'disabled');
  return [
    table(
      `Collection of ${t.displayName}, per source`,
      ['Source', 'State', 'Last success', 'Lag', 'Last run', 'Throttled until', 'Note'],
      shown.map((s) => [
        h('code', {}, s.stream),
        badge(s.state),
        s.lastSuccessAt ? time(s.lastSuccessAt) : 'never',
        s.lagSeconds === null ? 'nothing stored yet' : duration(s.lagSeconds),
        s.lastRun ? [badge(s.lastRun.status), ' ', time(s.lastRun.finishedAt ?? s.lastRun.startedAt)] : 'not run yet',
        s.lastRun?.status === 'throttled' ? time(s.schedule.nextRunAt) : '—',
        s.state === 'skipped' ? (s.skipReason ?? '') : s.lastError ? `Last error: ${s.lastError.message}` : '',
      ]),
      'No source is collected for this tenant.',
    ),
    h('p', { class: 'hint' }, off.length ? `Not collected (switched off): ${off.map((s) => s.stream).join(', ')}.` : ''),
  ];
}
