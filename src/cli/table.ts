// Plain-text tables for people. Cell text is sanitised: control characters from stored data
// must not drive the terminal.
const clean = (s: string): string => s.replace(/\p{Cc}/gu, '?');

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  if (!rows.length) return '(none)';
  const cells = [headers, ...rows].map((r) => r.map((c) => clean(c)));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}
