import { download, get, getUntyped, type AuditVerify } from '../api';
import { button, field, h, replace } from '../dom';
import { tenants, tenantSelect } from '../tenants-cache';
import { auditTable } from './actions';

/** The audit log: browse and filter, verify the hash chain, export NDJSON or CSV. */
export async function auditPage(main: HTMLElement): Promise<void> {
  const list = await tenants().catch(() => []);
  const tenant = tenantSelect(list, undefined, true);
  const event = h('input', { type: 'text', name: 'event', placeholder: 'action.requested' });
  const since = h('input', { type: 'datetime-local', name: 'since' });
  const until = h('input', { type: 'datetime-local', name: 'until' });
  const results = h('div', { 'aria-live': 'polite' });
  const verifyOut = h('div', { role: 'status', 'aria-live': 'polite' });
  const more = h('div', {});
  const iso = (v: string) => (v ? new Date(v).toISOString() : undefined);
  let cursor: string | null = null;
  const query = () => ({
    tenantId: tenant.select.value || undefined,
    event: event.value.trim() || undefined,
    since: iso(since.value),
    until: iso(until.value),
  });

  const load = async (append: boolean) => {
    const page = await get('/v1/audit-log', { query: { ...query(), limit: 100, cursor: append && cursor ? cursor : undefined } });
    cursor = page.nextCursor;
    if (append) results.appendChild(auditTable(page.items));
    else replace(results, auditTable(page.items));
    replace(more, cursor ? button('Show more', () => void load(true)) : null);
  };
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
    h('button', { type: 'submit' }, 'Filter'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load(false).catch((err: Error) => replace(results, h('p', { class: 'error', role: 'alert' }, err.message)));
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
    more,
  );
  await load(false);
}
