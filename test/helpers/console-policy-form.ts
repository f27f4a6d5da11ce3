// The console's policy editor as a test posts and reads it: files as the form's fields, and the
// text areas of a page as their text (Eta's escaping undone).

/** `file-<n>-name` / `file-<n>-text` fields for the files, in order. */
export function filesForm(files: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).flatMap(([name, text], i) => [[`file-${i + 1}-name`, name], [`file-${i + 1}-text`, text]]));
}

const unescape = (s: string): string => s.replace(/&(lt|gt|quot|#39|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e] ?? '');

/** Every text area's text, in page order (the newline after the opening tag is the parser's, not the text's). */
export function textareas(html: string): string[] {
  return [...html.matchAll(/<textarea[^>]*>\n?([\s\S]*?)<\/textarea>/g)].map((m) => unescape(m[1] ?? ''));
}
