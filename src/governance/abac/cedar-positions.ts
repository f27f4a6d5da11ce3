// Where in a policy file a Cedar error is, as file:line:column (1-based, columns in characters),
// so a person can find it in an editor or the console's text area. cedar-wasm reports source
// locations as UTF-8 byte offsets: into the file for a parse error, into the one policy's text
// for a validation error (each policy is validated apart, under its id).

/** The character index of a UTF-8 byte offset into `text` (clamped to the text). */
function charIndex(text: string, byteOffset: number): number {
  return Buffer.from(text, 'utf8').subarray(0, Math.max(0, byteOffset)).toString('utf8').length;
}

/** "file:line:column" of the character at `index` of `text`. */
export function positionOf(file: string, text: string, index: number): string {
  const before = text.slice(0, Math.max(0, index));
  const line = before.split('\n').length;
  return `${file}:${line}:${before.length - before.lastIndexOf('\n')}`;
}

/** The position of a byte offset cedar-wasm reported for `text` (the whole file). */
export function positionOfByte(file: string, text: string, byteOffset: number): string {
  return positionOf(file, text, charIndex(text, byteOffset));
}

/**
 * Where each policy's text starts in its file (characters), or undefined when it cannot be
 * found verbatim. cedar-wasm's policySetTextToParts returns each policy as the exact slice of
 * the file, in order, so a forward search from the previous policy's end finds it.
 */
export function policyStarts(text: string, parts: readonly string[]): (number | undefined)[] {
  let from = 0;
  return parts.map((part) => {
    const at = text.indexOf(part, from);
    if (at < 0) return undefined;
    from = at + part.length;
    return at;
  });
}

/** The position of a byte offset into one policy's text that starts at `start` in its file. */
export function positionInPolicy(file: string, fileText: string, start: number, policyText: string, byteOffset: number): string {
  return positionOf(file, fileText, start + charIndex(policyText, byteOffset));
}
