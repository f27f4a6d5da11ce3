// What a console page is made of, for views/console/page.eta: sections of facts, tables, charts,
// notices and forms. Pages build these from governance data; the template only lays them out
// (escaped, except a chart's SVG, which charts.ts builds with every text escaped).

export interface Field {
  readonly name: string;
  readonly label: string;
  readonly type: 'text' | 'select' | 'checkbox' | 'textarea' | 'datetime-local' | 'number' | 'email' | 'password';
  readonly options?: readonly { value: string; label: string }[];
  readonly value?: string;
  readonly hint?: string;
  readonly required?: boolean;
  /** A textarea's height in lines. */
  readonly rows?: number;
  /** A textarea holding code: monospace, no spelling checks or wrapping. */
  readonly code?: boolean;
  /** The browser's cap on a text's length (characters). */
  readonly maxLength?: number;
  /** A text input's pattern (HTML anchors it): the server's own rule, so the browser asks before posting. */
  readonly pattern?: RegExp;
  /**
   * A textarea that may be filled from a local file: a file chooser the console's script
   * (views/assets/console-files.js) shows, reads in the browser and copies into the textarea
   * (and the file's name into the field `nameField`, when that is empty). Without the script
   * the chooser stays hidden and the textarea works alone.
   */
  readonly upload?: { readonly accept: string; readonly nameField?: string };
}

/** A form that posts to /console/actions/<action> (console-actions.ts). */
export interface ActionForm {
  readonly action: string;
  readonly label: string;
  /** Hidden fields: what the form acts on. */
  readonly fields?: Readonly<Record<string, string>>;
  readonly inputs?: readonly Field[];
  /** Styled as destructive (the server asks for confirmation either way). */
  readonly danger?: boolean;
  /** The accessible name when the label alone is ambiguous in a table ("Disable client X"). */
  readonly aria?: string;
  /** More buttons that post the same fields to other actions (HTML formaction); the form's own button comes first and is the one Enter presses. */
  readonly also?: readonly { readonly action: string; readonly label: string; readonly danger?: boolean }[];
}

type Cell = string | number | null | { text: string; href?: string; code?: boolean; badge?: string } | { forms: readonly ActionForm[] };

export interface TableSection {
  readonly kind: 'table';
  readonly title: string;
  readonly intro?: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
  readonly empty: string;
  /** prev is toward the start of the list, first is its start; labels name them where "previous" and "next" would not say which way (the audit trail: newer, older). */
  readonly pager?: { prev?: string; next?: string; first?: string; text: string; labels?: { readonly first: string; readonly prev: string; readonly next: string } };
}

export type Section =
  | { readonly kind: 'facts'; readonly title: string; readonly intro?: string; readonly items: readonly { label: string; value: string; tone?: 'ok' | 'bad' }[] }
  | { readonly kind: 'notice'; readonly title: string; readonly text: string; readonly tone: 'ok' | 'warn' | 'error' }
  | { readonly kind: 'secret'; readonly title: string; readonly items: readonly { label: string; value: string }[] }
  | { readonly kind: 'chart'; readonly title: string; readonly intro?: string; readonly svg: string; readonly caption: string; readonly table: TableSection }
  | TableSection
  | { readonly kind: 'form'; readonly title: string; readonly intro?: string; readonly form: ActionForm; readonly method?: 'post' }
  | { readonly kind: 'form'; readonly title: string; readonly intro?: string; readonly form: ActionForm; readonly method: 'get'; readonly action: string; readonly links?: readonly { href: string; label: string }[] };

export interface PageModel {
  readonly title: string;
  readonly sections: readonly Section[];
  /** A script of the console's own it loads (served from /console/assets/, CSP script-src 'self'): only 'console-files'. */
  readonly script?: 'console-files';
}

export const when = (ms: number | string | null | undefined): string => {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
};

/** `path` with `query` (undefined values left out). */
export function href(path: string, query: Readonly<Record<string, string | number | undefined>>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** One page of `items` (offset paging over an in-memory, sorted list), with its pager. */
export function paginate<T>(items: readonly T[], offset: number, size: number, link: (offset: number) => string): { page: readonly T[]; pager: TableSection['pager'] } {
  const start = Math.min(Math.max(0, offset), Math.max(0, items.length - 1));
  const page = items.slice(start, start + size);
  return {
    page,
    pager: items.length > size
      ? { text: `${start + 1}–${start + page.length} of ${items.length}`, ...(start > 0 && { prev: link(Math.max(0, start - size)) }), ...(start + size < items.length && { next: link(start + size) }) }
      : undefined,
  };
}
