import { ApiError, get, post, type Action, type AuditEntry, type Evidence, type Schemas } from '../api';
import { badge, button, field, h, replace, table, time, type Child } from '../dom';
import { Pager, pageSizeSelect } from '../pager';
import { session } from '../session';
import { tenantName, tenants, tenantSelect } from '../tenants-cache';
import { actionLink, actorName, FINAL, json, poll, targetOf } from './common';

const STATUSES = ['awaiting_approval', 'queued', 'running', 'succeeded', 'partially_succeeded', 'failed', 'rejected', 'cancelled'];

/** Every action, newest first, filtered by tenant, status and target. */
export async function actionsPage(main: HTMLElement, params: string[] = []): Promise<() => void> {
  const list = await tenants().catch(() => []);
  const tenant = tenantSelect(list, undefined, true);
  const status = h(
    'select',
    { name: 'status' },
    h('option', { value: '' }, 'Any status'),
    STATUSES.map((s) => h('option', { value: s }, s.replace(/_/g, ' '))),
  );
  const target = h('input', { type: 'search', name: 'target', placeholder: 'alice@contoso.example', value: params[0] === 'target' ? params[1] : undefined });
  const size = pageSizeSelect();
  const results = h('div', { 'aria-live': 'polite' });
  const pager = new Pager<Action>(
    {
      caption: 'Actions, newest first',
      headers: ACTION_COLUMNS,
      row: (a) => actionRow(a, list),
      empty: 'No action matches.',
      read: (limit, cursor) =>
        get('/v1/actions', {
          query: {
            tenantId: tenant.select.value || undefined,
            status: (status.value || undefined) as never,
            target: target.value.trim() || undefined,
            limit,
            cursor,
          },
        }),
    },
    () => Number(size.select.value),
  );
  results.appendChild(pager.el);
  const load = () => pager.reload();
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter actions' },
    tenant.el,
    field('Status', status),
    field('Target', target),
    size.el,
    h('button', { type: 'submit' }, 'Filter'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load().catch((err: Error) => replace(results, h('p', { class: 'error', role: 'alert' }, err.message)));
  });
  replace(main, h('h1', {}, 'Actions'), form, results);
  await load();
  // The first page follows new actions; once more pages are loaded (or focus is in the list) it stays put.
  return poll(async () => {
    if (!results.contains(document.activeElement) && !pager.extended) await load();
    return false;
  }, 5000);
}

const ACTION_COLUMNS = ['Action', 'Type', 'Target', 'Tenant', 'Status', 'Requested by', 'Reason', 'Created'];

function actionRow(a: Action, list: Awaited<ReturnType<typeof tenants>>): Child[] {
  return [
    actionLink(a.id),
    a.type + (a.dryRun ? ' (dry run)' : ''),
    targetOf(a),
    tenantName(list, a.tenantId),
    badge(a.status),
    actorName(a.requestedBy),
    a.reason,
    time(a.createdAt),
  ];
}

export function actionsTable(items: Action[], list: Awaited<ReturnType<typeof tenants>>): HTMLElement {
  return table(
    'Actions, newest first',
    ACTION_COLUMNS,
    items.map((a) => actionRow(a, list)),
    'No action matches.',
  );
}

/** One action: its steps live (polled until it ends), Microsoft's request ids, its evidence and its audit entries. */
export async function actionPage(main: HTMLElement, params: string[]): Promise<() => void> {
  const id = params[0];
  const head = h('div', {});
  const steps = h('section', { 'aria-labelledby': 'steps-h' });
  const decide = h('div', {});
  const evidence = h('section', { 'aria-labelledby': 'ev-h' });
  const audit = h('section', { 'aria-labelledby': 'au-h' });
  const live = h('p', { class: 'sr-only', role: 'status', 'aria-live': 'polite' });
  replace(main, head, live, decide, steps, evidence, audit);
  const list = await tenants().catch(() => []);
  let lastStatus = '';

  const draw = (a: Action) => {
    if (a.status !== lastStatus) live.textContent = `Action ${a.type} is ${a.status.replace(/_/g, ' ')}`;
    lastStatus = a.status;
    const release = a.release as { scheduledAt?: string; status?: string } | undefined;
    replace(
      head,
      h(
        'h1',
        {},
        `${a.type} `,
        h('span', { class: 'target' }, targetOf(a)),
        ' ',
        badge(a.status),
        a.dryRun ? h('span', { class: 'badge badge-dry' }, 'dry run') : null,
      ),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Action id'),
        h('dd', {}, h('code', {}, a.id)),
        h('dt', {}, 'Tenant'),
        h('dd', {}, tenantName(list, a.tenantId)),
        h('dt', {}, 'Reason'),
        h('dd', {}, a.reason),
        h('dt', {}, 'Ticket'),
        h('dd', {}, a.ticket ?? '—'),
        h('dt', {}, 'Requested by'),
        h('dd', {}, actorName(a.requestedBy), ' at ', time(a.createdAt)),
        a.approvedBy ? [h('dt', {}, 'Approved by'), h('dd', {}, actorName(a.approvedBy))] : null,
        a.decidedBy ? [h('dt', {}, 'Decided by'), h('dd', {}, actorName(a.decidedBy))] : null,
        a.decisionReason ? [h('dt', {}, 'Decision reason'), h('dd', { class: 'decision' }, a.decisionReason)] : null,
        a.completedAt ? [h('dt', {}, 'Finished'), h('dd', {}, time(a.completedAt))] : null,
        release?.scheduledAt ? [h('dt', {}, 'Release'), h('dd', {}, badge(release.status), ' at ', time(release.scheduledAt))] : null,
      ),
      a.status === 'awaiting_approval' ? h('p', { class: 'notice' }, 'Waiting for approval by a responder.') : null,
      a.error ? h('div', { class: 'error', role: 'alert' }, h('strong', {}, 'Error: '), errorText(a.error)) : null,
      a.result && Object.keys(a.result).length ? h('details', {}, h('summary', {}, 'Result'), json(a.result)) : null,
    );
    replace(steps, h('h2', { id: 'steps-h' }, 'Steps'), stepsTable(a.steps));
    if (a.status === 'awaiting_approval' && session.has('responder')) replace(decide, decisionForm(a, draw));
    else replace(decide);
  };

  const a = await get('/v1/actions/{id}', { path: { id } });
  draw(a);
  const extras = () => {
    void loadEvidence(evidence, id);
    void loadAudit(audit, id);
  };
  extras();
  if (FINAL.includes(a.status)) return () => undefined;
  return poll(async () => {
    const next = await get('/v1/actions/{id}', { path: { id } });
    draw(next);
    if (FINAL.includes(next.status)) extras();
    return FINAL.includes(next.status);
  }, 700);
}

function errorText(e: unknown): string {
  const x = e as { code?: string; message?: string; detail?: string };
  return [x.code, x.message ?? x.detail].filter(Boolean).join(': ') || JSON.stringify(e);
}

export function stepsTable(steps: Schemas['StepResponse'][]): HTMLElement {
  return table(
    'Steps in order',
    ['Step', 'Status', 'What it did', "Microsoft's request id", 'Attempts', 'Started', 'Finished'],
    steps.map((s) => {
      const d = s.detail as { summary?: string } | undefined;
      return [
        s.name,
        badge(s.status),
        [d?.summary ?? '', s.error ? h('span', { class: 'error' }, ` ${errorText(s.error)}`) : null],
        s.microsoftRequestId ? h('code', {}, s.microsoftRequestId) : '—',
        String(s.attempts ?? 0),
        time(s.startedAt),
        time(s.finishedAt),
      ];
    }),
    'No step yet.',
  );
}

function decisionForm(a: Action, draw: (a: Action) => void): HTMLElement {
  const reason = h('input', { type: 'text', name: 'decisionReason', maxlength: 1000 });
  const msg = h('p', { role: 'status', 'aria-live': 'polite' });
  const run = async (kind: 'approve' | 'reject') => {
    try {
      const next =
        kind === 'approve'
          ? await post('/v1/actions/{id}/approve', { path: { id: a.id }, headers: { Prefer: 'wait=10' } })
          : await post('/v1/actions/{id}/reject', { path: { id: a.id }, body: { reason: reason.value.trim() || undefined } });
      draw(next as Action);
    } catch (err) {
      msg.className = 'error';
      msg.textContent = err instanceof ApiError ? err.message : String(err);
    }
  };
  return h(
    'section',
    { class: 'card decide', 'aria-labelledby': 'decide-h' },
    h('h2', { id: 'decide-h' }, 'Decide'),
    field('Reason (shown to the requester and kept in the audit log)', reason),
    h(
      'div',
      { class: 'buttons' },
      button('Approve', () => void run('approve'), { class: 'primary' }),
      button('Reject', () => void run('reject'), { class: 'danger' }),
    ),
    msg,
  );
}

async function loadEvidence(el: HTMLElement, id: string): Promise<void> {
  if (!session.any('auditor', 'responder')) return replace(el);
  try {
    const ev: Evidence = await get('/v1/actions/{id}/evidence', { path: { id } });
    replace(
      el,
      h('h2', { id: 'ev-h' }, 'Evidence'),
      h('details', {}, h('summary', {}, 'What the target looked like before (snapshot)'), json(ev.snapshot)),
      table(
        'Evidence per step, each tied to its audit entry',
        ['Step', 'Status', 'At', 'SHA-256 (recorded)', 'Audit entry'],
        (ev.steps as Schemas['StepEvidenceDto'][]).map((s) => [
          s.step,
          badge(s.status),
          time(s.at),
          h(
            'code',
            { title: s.sha256 },
            `${(s.recordedSha256 ?? s.sha256 ?? '').slice(0, 16)}…`,
            s.recordedSha256 && s.sha256 && s.recordedSha256 !== s.sha256 ? ' (MISMATCH)' : '',
          ),
          s.audit ? `#${s.audit.seq}` : '—',
        ]),
        'No evidence recorded yet.',
      ),
    );
  } catch (err) {
    replace(el, h('h2', { id: 'ev-h' }, 'Evidence'), h('p', { class: 'error' }, err instanceof Error ? err.message : String(err)));
  }
}

async function loadAudit(el: HTMLElement, id: string): Promise<void> {
  if (!session.any('auditor', 'admin')) return replace(el);
  try {
    const page = await get('/v1/audit-log', { query: { actionId: id, limit: 100 } });
    replace(el, h('h2', { id: 'au-h' }, 'Audit entries'), auditTable(page.items));
  } catch (err) {
    replace(el, h('h2', { id: 'au-h' }, 'Audit entries'), h('p', { class: 'error' }, err instanceof Error ? err.message : String(err)));
  }
}

export const AUDIT_COLUMNS = ['Seq', 'At', 'Event', 'Actor', 'Subject', 'Action', 'Request id'];

export function auditRow(e: AuditEntry): Child[] {
  return [
    String(e.seq),
    time(e.at),
    h('code', {}, e.event),
    actorName(e.actor),
    e.subject ?? '—',
    e.actionId ? actionLink(e.actionId) : '—',
    h('code', {}, e.requestId),
  ];
}

export function auditTable(items: AuditEntry[]): HTMLElement {
  return table('Audit entries, oldest first', AUDIT_COLUMNS, items.map(auditRow), 'No audit entry matches.');
}
