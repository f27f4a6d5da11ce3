// A minimal web app for trying the sign-in flow by hand: it prints an authorization URL (code
// flow + PKCE), receives the callback on http://127.0.0.1:8976/callback, exchanges the code with
// openid-client, prints the tokens' claims, refreshes once, and exits.
// Usage (see README "Sign in a person"):
//   DEMO_CLIENT_ID=… DEMO_CLIENT_SECRET=… npm run demo:app [-- "openid offline_access ai.training.read"]
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
const redirectUri = 'http://127.0.0.1:8976/callback';

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
const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as unknown;

const server = createServer((req, res) => {
  void (async () => {
    const current = new URL(req.url ?? '/', redirectUri);
    if (current.pathname !== '/callback') return void res.writeHead(404).end();
    try {
      const tokens = await oidc.authorizationCodeGrant(config, current, { pkceCodeVerifier: verifier, expectedState: state });
      console.log('\naccess token claims:', claims(tokens.access_token));
      if (tokens.id_token) console.log('\nID token claims:', claims(tokens.id_token));
      if (tokens.refresh_token) {
        const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
        console.log('\nrefreshed: new refresh token issued:', refreshed.refresh_token !== tokens.refresh_token);
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('Signed in. Look at the terminal.\n');
    } catch (err) {
      console.error('\ntoken exchange failed:', err);
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`Sign-in failed: ${current.searchParams.get('error') ?? String(err)}\n`);
    }
    server.close();
  })();
});
server.listen(8976, '127.0.0.1', () => console.log(`Open this URL in a browser:\n\n  ${url.href}\n`));
