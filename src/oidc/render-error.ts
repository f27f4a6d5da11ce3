// oidc-provider's renderError: errors it cannot send back to the app (an unknown client, a
// redirect_uri that is not registered, a bad sign-out request) become govauth's own page. Its
// default page inlines markup, loads Google Fonts and shows the library's description ("client
// is invalid"); ours says what happened in a sentence (error-messages.ts), keeps the strict CSP,
// and offers a way back to the application only at an address the application registered.
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { PolicyStore } from '../governance/policy-store.ts';
import { renderErrorPage, type BackLink } from '../pages/error-page.ts';
import { errorText } from '../pages/error-messages.ts';
import { originsOf, type Views } from '../pages/views.ts';

interface ErrorOut {
  readonly error: string;
  readonly error_description?: string;
}

/** A registered address of the client named in the request, if it is a live client. */
function backToApp(ctx: KoaContextWithOIDC, policy: PolicyStore): BackLink | undefined {
  const clientId = ctx.oidc?.client?.clientId;
  const def = clientId ? policy.snapshot().clients.get(clientId) : undefined;
  if (!def || def.disabled) return undefined;
  const label = `Back to ${def.name}`;
  // Sign-out: where the app asked people to land after signing out (registered, so safe).
  const route = ctx.oidc?.route ?? '';
  const afterLogout = def.postLogoutRedirectUris[0];
  if (route.startsWith('end_session') && afterLogout) return { href: afterLogout, label };
  // Otherwise the app's own site: the origin of a registered redirect URI, never the request's.
  const origin = originsOf(def.redirectUris)[0];
  return origin ? { href: `${origin}/`, label } : undefined;
}

export function createRenderError(deps: { views: Views; policy: PolicyStore }) {
  return (ctx: KoaContextWithOIDC, out: ErrorOut): void => {
    // RFC 6749 §5.2: token endpoint errors are JSON. oidc-provider renders this page instead
    // for a client whose Accept header prefers HTML (found by test/security/fuzz.test.ts).
    if (ctx.oidc?.route === 'token') {
      ctx.body = out;
      return;
    }
    const text = errorText(out.error, out.error_description);
    renderErrorPage(ctx, deps.views, { ...text, code: out.error, back: backToApp(ctx, deps.policy) });
  };
}
