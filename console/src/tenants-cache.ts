import { get, type Tenant } from './api';
import { field, h } from './dom';
import { session } from './session';

let cached: Promise<Tenant[]> | null = null;
session.onClear(() => (cached = null));

/** The tenants this key may see (first 100). */
export function tenants(refresh = false): Promise<Tenant[]> {
  // An auditor may not list tenants: it is not asked (a refused call is an audit entry of its own).
  if (!session.any('analyst', 'responder', 'admin')) return Promise.resolve([]);
  if (refresh || !cached) {
    cached = get('/v1/tenants', { query: { limit: 100 } }).then((page) => page.items);
    cached.catch(() => (cached = null));
  }
  return cached;
}

export function tenantName(list: Tenant[], id: string | null | undefined): string {
  if (!id) return '—';
  return list.find((t) => t.id === id)?.displayName ?? id;
}

/** A labelled tenant select; `withAll` adds "All tenants" (value ''). */
export function tenantSelect(list: Tenant[], selected: string | undefined, withAll: boolean): { el: HTMLElement; select: HTMLSelectElement } {
  const select = h(
    'select',
    { name: 'tenant' },
    withAll ? h('option', { value: '' }, 'All tenants') : null,
    list.map((t) => h('option', { value: t.id, selected: t.id === selected }, t.displayName)),
  );
  return { el: field('Tenant', select), select };
}
