/**
 * A list read page by page with the API's keyset cursor (`nextCursor` in, `cursor` out): the first page
 * is drawn, "Load more" appends the next one to the same table and moves focus to its first new row, so
 * a keyboard user carries on where the new rows start.
 */
import { button, field, h, replace, type Child } from './dom';

export interface Paged<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PagerOptions<T> {
  caption: string;
  headers: string[];
  row: (item: T) => Child[];
  empty: string;
  /** Reads one page: `cursor` is undefined for the first. */
  read: (limit: number, cursor: string | undefined) => Promise<Paged<T>>;
}

export const PAGE_SIZES = [5, 25, 50, 100];
/** The API's largest page (PageQueryDto). */
const MAX_LIMIT = 1000;

/** A labelled "Rows per page" select, for a list's filter form. */
export function pageSizeSelect(selected = 50): { el: HTMLElement; select: HTMLSelectElement } {
  const select = h(
    'select',
    { name: 'limit' },
    PAGE_SIZES.map((n) => h('option', { value: String(n), selected: n === selected }, String(n))),
  );
  return { el: field('Rows per page', select), select };
}

export class Pager<T> {
  readonly el = h('div', { class: 'pager' });
  private readonly body = h('tbody', {});
  private readonly status = h('p', { class: 'hint', role: 'status' });
  private readonly more = h('div', { class: 'buttons' });
  private cursor: string | null = null;
  private shown = 0;

  constructor(
    private readonly options: PagerOptions<T>,
    private readonly limit: () => number,
  ) {}

  /** Draws the first page anew (the filters changed). */
  reload(): Promise<void> {
    return this.draw(this.limit());
  }

  /** Reads the list again as far as it is drawn (after an action on a row, the rows loaded stay in view). */
  refresh(): Promise<void> {
    return this.draw(Math.min(MAX_LIMIT, Math.max(this.shown, this.limit())));
  }

  private async draw(limit: number): Promise<void> {
    const page = await this.options.read(limit, undefined);
    this.shown = 0;
    this.body.replaceChildren();
    if (page.items.length === 0) {
      replace(this.el, h('p', { class: 'empty' }, this.options.empty));
      return;
    }
    replace(
      this.el,
      h(
        'table',
        {},
        h('caption', {}, this.options.caption),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            this.options.headers.map((x) => h('th', { scope: 'col' }, x)),
          ),
        ),
        this.body,
      ),
      this.status,
      this.more,
    );
    this.add(page);
  }

  /** True once more than a page is drawn: reading the first page again would take rows away. */
  get extended(): boolean {
    return this.shown > this.limit();
  }

  private add(page: Paged<T>): HTMLTableRowElement | undefined {
    const rows = page.items.map((item) =>
      h(
        'tr',
        { tabindex: -1 },
        this.options.row(item).map((c) => h('td', {}, c)),
      ),
    );
    rows.forEach((r) => this.body.appendChild(r));
    this.shown += rows.length;
    this.cursor = page.nextCursor;
    this.status.textContent = `Showing ${this.shown}${this.cursor ? '; more are available' : ', all there are'}.`;
    replace(this.more, this.cursor ? button('Load more', () => void this.next()) : null);
    return rows[0];
  }

  private async next(): Promise<void> {
    if (!this.cursor) return;
    const btn = this.more.querySelector('button');
    if (btn) btn.disabled = true;
    try {
      const first = this.add(await this.options.read(this.limit(), this.cursor));
      first?.focus();
    } catch (err) {
      if (btn) btn.disabled = false;
      this.status.textContent = `Could not load more: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
}
