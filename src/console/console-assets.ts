// The console's own stylesheet and script, served from /console/assets/ (the pages' CSP allows
// only 'self'): read once at start, so a missing file fails the start, not a page. The one
// script (views/assets/console-files.js) is loaded only by pages that ask for it (page-model.ts
// `script`): it fills a policy text area from a file the person chooses.
import { readFileSync } from 'node:fs';
import type { Context } from 'koa';
import { CONSOLE_PATH } from './console-session.ts';

const ASSETS = [
  { file: 'console.css', type: 'text/css' },
  { file: 'console-files.js', type: 'text/javascript' },
] as const;

/** Serves a console asset for a GET of its path; false for any other request. */
export function consoleAssets(): (ctx: Context) => boolean {
  const served = new Map(ASSETS.map(({ file, type }) => [`${CONSOLE_PATH}/assets/${file}`, { type, body: readFileSync(new URL(`../../views/assets/${file}`, import.meta.url), 'utf8') }]));
  return (ctx) => {
    const asset = ctx.method === 'GET' ? served.get(ctx.path) : undefined;
    if (!asset) return false;
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = asset.body;
    return true;
  };
}
