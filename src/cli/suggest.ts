// "did you mean …?" for a mistyped command: the command whose name is nearest to the words
// typed, by edit distance, when it is near enough to be a typo rather than another intent.

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = d;
    }
  }
  return at(a.length, b.length);
}

/**
 * The command name nearest to what was typed: each name is compared with as many leading
 * words (options excluded) as it has, so `clent list cl_1` is compared as `clent list` with
 * `client list`. Near enough: at most one edit per four characters of the name (at least one).
 */
export function nearestCommand(argv: readonly string[], names: readonly string[]): string | undefined {
  const firstOption = argv.findIndex((a) => a.startsWith('-'));
  const words = (firstOption === -1 ? argv : argv.slice(0, firstOption)).slice(0, 3);
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const count = name.split(' ').length;
    if (words.length < count) continue;
    const typed = words.slice(0, count).join(' ');
    const distance = editDistance(typed.slice(0, 64), name);
    if (distance > Math.max(1, Math.floor(name.length / 4))) continue;
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best?.name;
}
