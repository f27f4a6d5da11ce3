// The scripts of the passkey ceremony, served by govauth itself (no CDN; the pages' CSP allows
// script-src 'self' only): @simplewebauthn/browser's single-file bundle, which defines
// window.SimpleWebAuthnBrowser, and views/assets/passkeys.js, which drives the forms. Both are
// read once at start; a missing file fails the start, not a sign-in.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Middleware } from 'koa';

const PASSKEY_SCRIPT_PATHS = ['/assets/webauthn.js', '/assets/passkeys.js'] as const;

function bundlePath(): string {
  // The package's CommonJS entry is <root>/script/index.js; the bundle is <root>/dist/bundle.
  const entry = createRequire(import.meta.url).resolve('@simplewebauthn/browser');
  return join(dirname(dirname(entry)), 'dist/bundle/index.umd.min.js');
}

export function passkeyAssets(viewsDir = fileURLToPath(new URL('../../views/', import.meta.url))): Middleware {
  const files = new Map<string, string>([
    [PASSKEY_SCRIPT_PATHS[0], readFileSync(bundlePath(), 'utf8')],
    [PASSKEY_SCRIPT_PATHS[1], readFileSync(join(viewsDir, 'assets/passkeys.js'), 'utf8')],
  ]);
  return async (ctx, next) => {
    const body = ctx.method === 'GET' ? files.get(ctx.path) : undefined;
    if (body === undefined) {
      await next();
      return;
    }
    ctx.type = 'text/javascript';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = body;
  };
}
