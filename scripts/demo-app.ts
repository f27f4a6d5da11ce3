// A minimal web app for trying the sign-in flow by hand: it prints an authorization URL (code
// flow + PKCE), receives the callback on http://127.0.0.1:8976/callback, exchanges the code with
// openid-client, prints the tokens' claims, refreshes once, and exits.
// Usage (see README "Sign in a person"):
//   DEMO_CLIENT_ID=… DEMO_CLIENT_SECRET=… npm run demo:app [-- "openid offline_access ai.training.read"]
// DEMO_PORT moves the callback listener (the client must be registered with that redirect URI).
import { createServer } from 'node:http';
import * as oidc from 'openid-client';

const issuer = process.env.GOVAUTH_ISSUER ?? 'http://localhost:3000';
const clientId = process.env.DEMO_CLIENT_ID;
if (!clientId) {
  console.error('set DEMO_CLIENT_ID (and DEMO_CLIENT_SECRET unless the client is --public)');
  process.exit(2);
}
const secret = process.env.DEMO_CLIENT_SECRET;
const scope = process.argv[2] ?? 'openid email offline_access ai.training.read';
const port = Number(process.env.DEMO_PORT ?? '8976');
const redirectUri = `http://127.0.0.1:${port}/callback`;

const config = await oidc.discovery(new URL(issuer), clientId, secret, secret ? undefined : oidc.None(), {
  execute: issuer.startsWith('http:') ? [oidc.allowInsecureRequests] : [],
});
const verifier = oidc.randomPKCECodeVerifier();
const state = oidc.randomState();
const url = oidc.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope,
  state,
  code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  resource: process.env.DEMO_RESOURCE ?? 'https://models.example',
  ...(scope.includes('offline_access') && { prompt: 'consent' }), // OIDC Core §11
});
/**
 * What the app was told, as OAuth says it (RFC 6749 §4.1.2.1 error responses, §5.2 token
 * errors): the error code and its description. openid-client's errors carry both; anything else
 * (the server unreachable) is its message. Never a stack trace: this is what a person reads.
 */
function describeError(err: unknown): string {
  const e = err as { error?: unknown; error_description?: unknown; message?: unknown };
  if (typeof e.error === 'string') return printable(typeof e.error_description === 'string' ? `${e.error}: ${e.error_description}` : e.error);
  return printable(String(e.message ?? err));
}

/** Callback parameters are anyone's input: no terminal control sequences from them. */
const printable = (text: string): string => text.replace(/\p{Cc}/gu, '?');

const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as unknown;

const server = createServer((req, res) => {
  void (async () => {
    const current = new URL(req.url ?? '/', redirectUri);
    if (current.pathname !== '/callback') return void res.writeHead(404).end();
    const error = printable(current.searchParams.get('error') ?? '');
    if (error) {
      // The person clicked Deny, or the server refused the request (RFC 6749 §4.1.2.1).
      const description = printable(current.searchParams.get('error_description') ?? '');
      const sameRequest = current.searchParams.get('state') === state;
      console.error(`\nThe sign-in did not complete. The app received:\n  error: ${error}${description ? `\n  error_description: ${description}` : ''}${sameRequest ? '' : '\n  (its state does not match the request this app sent)'}`);
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end(`Sign-in did not complete: ${error}${description ? ` (${description})` : ''}\n`);
      process.exitCode = 1;
      server.close();
      return;
    }
    try {
      const tokens = await oidc.authorizationCodeGrant(config, current, { pkceCodeVerifier: verifier, expectedState: state });
      // The token itself too: it is the person's own, shown on their terminal, so they can hand
      // it to an agent that acts for them (README "An agent acting for Alice").
      console.log('\naccess token:', tokens.access_token);
      console.log('\naccess token claims:', claims(tokens.access_token));
      if (tokens.id_token) console.log('\nID token claims:', claims(tokens.id_token));
      if (tokens.refresh_token) {
        const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
        console.log('\nrefreshed: new refresh token issued:', refreshed.refresh_token !== tokens.refresh_token);
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('Signed in. Look at the terminal.\n');
    } catch (err) {
      console.error(`\nThe token request failed: ${describeError(err)}`);
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end(`Sign-in failed: ${describeError(err)}\n`);
      process.exitCode = 1;
    }
    server.close();
  })();
});
server.listen(port, '127.0.0.1', () => console.log(`Open this URL in a browser:\n\n  ${url.href}\n`));
