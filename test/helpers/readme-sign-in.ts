// Stands in for the person at the browser in the README test: signs in to the demo app
// (`npm run demo:app`, redirect http://127.0.0.1:8976/callback) with the given email, password
// and scope, allows the consent, redeems the code as the demo app does and prints the access
// token. Usage: node test/helpers/readme-sign-in.ts <email> <password> <scope>
// with GOVAUTH_URL, DEMO_CLIENT_ID and DEMO_CLIENT_SECRET in the environment.
import * as oidc from 'openid-client';
import { SignInSteps } from './sign-in-steps.ts';

const DEMO_REDIRECT = 'http://127.0.0.1:8976/callback';
const [email, password, scope] = process.argv.slice(2);
const { GOVAUTH_URL: issuer, DEMO_CLIENT_ID: clientId, DEMO_CLIENT_SECRET: secret } = process.env;
if (!email || !password || !scope || !issuer || !clientId || !secret) {
  console.error('usage: readme-sign-in.ts <email> <password> <scope> (with GOVAUTH_URL, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET set)');
  process.exit(2);
}
// The server's own issuer name (its address may be spelled differently here, RFC 8414 §3.3).
const metadata = (await (await fetch(new URL('/.well-known/openid-configuration', issuer))).json()) as { issuer: string };
const config = await oidc.discovery(new URL(metadata.issuer), clientId, secret, undefined, { execute: [oidc.allowInsecureRequests] });
const verifier = oidc.randomPKCECodeVerifier();
const state = oidc.randomState();
const url = oidc.buildAuthorizationUrl(config, { redirect_uri: DEMO_REDIRECT, scope, state, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
const callback = await new SignInSteps({ forwardedFor: null }).walk(url.href, DEMO_REDIRECT, (page) => {
  if (page.seen > 0) throw new Error(`the ${page.kind} page was shown again (${page.status})`);
  return page.kind === 'login' ? { email, password } : { decision: 'allow' };
});
const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
process.stdout.write(`${tokens.access_token}\n`);
