import type { Action } from '../api';
import { h, link } from '../dom';

export const FINAL = ['succeeded', 'partially_succeeded', 'failed', 'rejected', 'cancelled'];

export function targetOf(a: Pick<Action, 'target'>): string {
  const t = a.target as { display?: string; requested?: string; id?: string } | undefined;
  return t?.display ?? t?.requested ?? t?.id ?? '—';
}

export function actorName(a: { name?: string; type?: string } | null | undefined): string {
  return a ? (a.name ?? a.type ?? '—') : '—';
}

export function actionLink(id: string, label?: string): HTMLAnchorElement {
  return link(`#/actions/${encodeURIComponent(id)}`, label ?? id.slice(0, 8));
}

/** A JSON value shown as preformatted text (never as markup). */
export function json(value: unknown): HTMLElement {
  return h('pre', { class: 'json' }, JSON.stringify(value, null, 2));
}

/** Polls `read` every `ms` until it returns true or the page is left; returns the stop function. */
export function poll(read: () => Promise<boolean>, ms = 1000): () => void {
  let stopped = false;
  let timer: number | undefined;
  const tick = async () => {
    if (stopped) return;
    let done = false;
    try {
      done = await read();
    } catch {
      done = false;
    }
    if (!done && !stopped) timer = window.setTimeout(() => void tick(), ms);
  };
  timer = window.setTimeout(() => void tick(), ms);
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}
