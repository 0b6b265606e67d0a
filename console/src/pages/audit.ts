import { download, get, getUntyped, type AuditEntry, type AuditVerify } from '../api';
import { button, field, h, replace } from '../dom';
import { tenants, tenantSelect } from '../tenants-cache';
import { Pager, pageSizeSelect } from '../pager';
import { AUDIT_COLUMNS, auditRow } from './actions';

/** The audit log: browse and filter, verify the hash chain, export NDJSON or CSV. */
export async function auditPage(main: HTMLElement): Promise<void> {
  const list = await tenants().catch(() => []);
  const tenant = tenantSelect(list, undefined, true);
  const event = h('input', { type: 'text', name: 'event', placeholder: 'action.requested' });
  const since = h('input', { type: 'datetime-local', name: 'since' });
  const until = h('input', { type: 'datetime-local', name: 'until' });
  const results = h('div', { 'aria-live': 'polite' });
  const verifyOut = h('div', { role: 'status', 'aria-live': 'polite' });
  const iso = (v: string) => (v ? new Date(v).toISOString() : undefined);
  const size = pageSizeSelect(100);
  const query = () => ({
    tenantId: tenant.select.value || undefined,
    event: event.value.trim() || undefined,
    since: iso(since.value),
    until: iso(until.value),
  });

  const pager = new Pager<AuditEntry>(
    {
      caption: 'Audit entries, oldest first',
      headers: AUDIT_COLUMNS,
      row: auditRow,
      empty: 'No audit entry matches.',
      read: (limit, cursor) => get('/v1/audit-log', { query: { ...query(), limit, cursor } }),
    },
    () => Number(size.select.value),
  );
  results.appendChild(pager.el);
  const load = () => pager.reload();
  const verify = async () => {
    replace(verifyOut, h('p', {}, 'Verifying…'));
    try {
      const v = await getUntyped<AuditVerify>('/v1/audit-log/verify');
      replace(
        verifyOut,
        v.ok
          ? h('p', { class: 'ok verify-result' }, `Chain intact: ${v.checked} entries checked; head #${v.lastSeq} (${v.lastHash.slice(0, 16)}…).`)
          : h('p', { class: 'error verify-result' }, `Chain BROKEN at entry #${v.firstBadSeq ?? '?'}: ${v.reason ?? 'hash mismatch'} (${v.checked} checked).`),
      );
    } catch (err) {
      replace(verifyOut, h('p', { class: 'error' }, err instanceof Error ? err.message : String(err)));
    }
  };
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter the audit log' },
    tenant.el,
    field('Event', event),
    field('Since (your time)', since),
    field('Until (your time)', until),
    size.el,
    h('button', { type: 'submit' }, 'Filter'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load().catch((err: Error) => replace(results, h('p', { class: 'error', role: 'alert' }, err.message)));
  });
  const exportAs = (format: 'ndjson' | 'csv') => () => {
    const { since: s, until: u } = query();
    void download('/v1/audit-log/export', { format, since: s, until: u }, `cordon-audit.${format}`).catch((err: Error) =>
      replace(verifyOut, h('p', { class: 'error' }, err.message)),
    );
  };
  replace(
    main,
    h('h1', {}, 'Audit'),
    h(
      'div',
      { class: 'buttons' },
      button('Verify the chain', () => void verify(), { class: 'primary' }),
      button('Export NDJSON', exportAs('ndjson')),
      button('Export CSV', exportAs('csv')),
    ),
    verifyOut,
    form,
    results,
  );
  await load();
}
