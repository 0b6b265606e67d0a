import { ApiError, get, post, type Action } from '../api';
import { button, field, h, replace, time } from '../dom';
import { tenantName, tenants } from '../tenants-cache';
import { actionLink, actorName, poll, targetOf } from './common';

/** The approvals queue (responders): every action waiting, approve or reject each with a reason. */
export async function approvalsPage(main: HTMLElement): Promise<() => void> {
  const list = await tenants().catch(() => []);
  const queue = h('div', { 'aria-live': 'polite' });
  const load = async () => {
    const page = await get('/v1/actions', { query: { status: 'awaiting_approval' as never, limit: 100 } });
    replace(
      queue,
      page.items.length === 0
        ? h('p', { class: 'empty' }, 'Nothing is waiting for approval.')
        : h(
            'ul',
            { class: 'queue' },
            page.items.map((a) => h('li', {}, card(a))),
          ),
    );
  };
  const card = (a: Action) => {
    const reason = h('input', { type: 'text', name: 'decisionReason', maxlength: 1000 });
    const msg = h('p', { role: 'status', 'aria-live': 'polite' });
    const decide = async (kind: 'approve' | 'reject') => {
      try {
        const next =
          kind === 'approve'
            ? await post('/v1/actions/{id}/approve', { path: { id: a.id } })
            : await post('/v1/actions/{id}/reject', { path: { id: a.id }, body: { reason: reason.value.trim() || undefined } });
        msg.className = 'ok';
        msg.textContent = `${kind === 'approve' ? 'Approved' : 'Rejected'}: now ${(next as Action).status.replace(/_/g, ' ')}.`;
        setTimeout(() => void load(), 800);
      } catch (err) {
        msg.className = 'error';
        msg.textContent = err instanceof ApiError ? err.message : String(err);
      }
    };
    const title = `${a.type} ${targetOf(a)}`;
    return h(
      'article',
      { class: 'card', 'aria-label': title },
      h('h2', {}, a.type, ' ', h('span', { class: 'target' }, targetOf(a)), ' ', actionLink(a.id, 'details')),
      h('p', {}, `${tenantName(list, a.tenantId)} · requested by ${actorName(a.requestedBy)} `, time(a.createdAt), a.dryRun ? ' · dry run' : ''),
      h('p', {}, h('strong', {}, 'Reason: '), a.reason, a.ticket ? ` (ticket ${a.ticket})` : ''),
      field(`Decision reason for ${title}`, reason),
      h(
        'div',
        { class: 'buttons' },
        button('Approve', () => void decide('approve'), { class: 'primary', 'aria-label': `Approve ${title}` }),
        button('Reject', () => void decide('reject'), { class: 'danger', 'aria-label': `Reject ${title}` }),
      ),
      msg,
    );
  };
  replace(
    main,
    h('h1', {}, 'Approvals'),
    h('p', {}, 'Requests from analysts (or that policy holds for approval). Another responder than the requester decides.'),
    queue,
  );
  await load();
  return poll(async () => {
    if (!queue.contains(document.activeElement)) await load();
    return false;
  }, 10000);
}
