// A short name for the browser of a sign-in ("Chrome on Linux"), from its User-Agent header, for
// the person's list of sessions. Best effort by design: the header is the client's to write, so
// the page shows it as a hint, next to the address and times, never as proof of anything.

const BROWSERS: readonly (readonly [RegExp, string])[] = [
  [/Edg\//, 'Edge'],
  [/OPR\//, 'Opera'],
  [/Firefox\//, 'Firefox'],
  [/(Headless)?Chrome\//, 'Chrome'],
  [/Version\/[\d.]+.*Safari\//, 'Safari'],
];
const SYSTEMS: readonly (readonly [RegExp, string])[] = [
  [/Android/, 'Android'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Windows/, 'Windows'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
];

export function deviceLabel(userAgent: string | undefined): string {
  if (!userAgent) return 'Browser not recorded';
  const browser = BROWSERS.find(([re]) => re.test(userAgent))?.[1];
  const system = SYSTEMS.find(([re]) => re.test(userAgent))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  if (browser ?? system) return `${browser ?? 'A browser'}${system ? ` on ${system}` : ''}`;
  // Not a browser we know (a script, a command-line client): its own first word, shortened.
  return userAgent.split(/[\s/]/)[0]?.slice(0, 40) || 'Unknown browser';
}
