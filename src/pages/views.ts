// Server-rendered pages: Eta templates from views/, auto-escaped (`<%= %>`); raw output
// (`<%~ %>`) is used only for the layout body and oidc-provider's own logout form. Every page
// carries a CSP without inline script or style. form-action must also allow the app's origin:
// browsers apply it to the redirect that follows a form post (consent → app).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Context } from 'koa';

const VIEWS_DIR = fileURLToPath(new URL('../../views/', import.meta.url));

export interface Views {
  render(ctx: Context, template: string, data: Record<string, unknown>, options?: RenderOptions): void;
  /** For oidc-provider hooks that want a string. */
  html(template: string, data: Record<string, unknown>): string;
  readonly stylesheet: string;
}

interface RenderOptions {
  readonly status?: number | undefined;
  readonly formTargets?: readonly string[];
  /** The page loads govauth's own scripts (the passkey ceremony, passkey-assets.ts): script-src and connect-src 'self'. */
  readonly scripts?: boolean;
}

export function originsOf(uris: readonly string[]): string[] {
  const out = new Set<string>();
  for (const uri of uris) {
    const url = URL.parse(uri);
    if (url && (url.protocol === 'https:' || url.protocol === 'http:')) out.add(url.origin);
  }
  return [...out];
}

export function htmlHeaders(ctx: Context, formTargets: readonly string[] = [], scripts = false): void {
  const formAction = ["'self'", ...formTargets].join(' ');
  // Scripts only from this server, never inline (no 'unsafe-inline', no hashes needed).
  const script = scripts ? " script-src 'self'; connect-src 'self';" : '';
  ctx.set(
    'Content-Security-Policy',
    `default-src 'none';${script} style-src 'self'; img-src 'self'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
  );
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
  ctx.set('Cache-Control', 'no-store');
}

export function createViews(dir = VIEWS_DIR): Views {
  const eta = new Eta({ views: dir, autoEscape: true, cache: true, autoTrim: false });
  const stylesheet = readFileSync(`${dir}assets/govauth.css`, 'utf8');
  return {
    stylesheet,
    html: (template, data) => eta.render(template, data),
    render(ctx, template, data, options = {}) {
      htmlHeaders(ctx, options.formTargets, options.scripts);
      ctx.status = options.status ?? 200;
      ctx.type = 'html';
      ctx.body = eta.render(template, data);
    },
  };
}
