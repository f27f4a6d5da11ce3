// The token exchange load (RFC 8693 §2.1) and its reference, client_credentials for the same
// agent. Both authenticate the agent with HTTP Basic (argon2id secret) and sign one RS256 at+jwt
// for the demo resource; the exchange also verifies the person's access token it is given
// (signature, liveness, delegation), so the ratio exchange / client_credentials is what reading
// the subject token and judging the delegation cost.
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from '../../src/governance/delegation.ts';
import { headlessSignIn } from '../../test/helpers/headless-sign-in.ts';
import { AGENT_SCOPE, BENCH_PERSON, type Fixture } from './govauth-fixture.ts';
import { BENCH_RESOURCE, govauthTokenRequest, type ClientCredentials } from './issuance.ts';
import { basicAuth, FORM, type LoadOptions, type LoadResult } from './load.ts';
import type { Child } from './processes.ts';
import type { Candidate } from './rounds.ts';
import { verifySampleToken } from './verify-access-token.ts';

/**
 * The person's access token for the resource, from a real sign-in: the login and consent forms
 * posted as a browser would, then the code exchange with PKCE (test/helpers/headless-sign-in.ts).
 * Through `localhost`, the issuer's host (src/server.ts), so the sign-in cookies match.
 */
async function signInForSubjectToken(serverUrl: string, app: ClientCredentials): Promise<string> {
  const config = await oidc.discovery(new URL(serverUrl.replace('127.0.0.1', 'localhost')), app.client_id, app.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
  const tokens = await headlessSignIn(config, BENCH_PERSON.email, `openid ${AGENT_SCOPE}`, { password: BENCH_PERSON.password });
  return tokens.access_token;
}

/** POST <server>/token: the agent exchanges `subjectToken` for a token to act for its person. */
function tokenExchangeRequest(serverUrl: string, agent: ClientCredentials, subjectToken: string, connections: number): LoadOptions {
  const body = new URLSearchParams({
    grant_type: TOKEN_EXCHANGE_GRANT,
    subject_token: subjectToken,
    subject_token_type: ACCESS_TOKEN_TYPE,
    resource: BENCH_RESOURCE,
    scope: AGENT_SCOPE,
  });
  return { url: `${serverUrl}/token`, method: 'POST', headers: { ...FORM, authorization: basicAuth(agent.client_id, agent.client_secret) }, body: body.toString(), connections };
}

/**
 * client_credentials for the fixture's agent (the reference, first) and its token exchange for
 * the bench person, each answered once and its token verified before any load: the exchanged
 * one must be the person's, with the agent as actor (RFC 8693 §4.1). The subject token is
 * obtained once and must outlive the load (`loadSec`): it is the resource's token TTL, set by
 * the fixture.
 */
export async function exchangeCandidates(server: Child, fixture: Fixture, connections: number, loadSec: number): Promise<Candidate[]> {
  const subjectToken = await signInForSubjectToken(server.url, fixture.app);
  const subject = decodeJwt(subjectToken);
  const left = Number(subject.exp) - Date.now() / 1000;
  if (!(left > loadSec + 60)) throw new Error(`the subject token expires in ${Math.round(left)} s, before the ${loadSec} s of load end: raise the resource's --token-ttl in bench/lib/govauth-fixture.ts`);

  const candidates = [
    { name: 'client_credentials, agent', options: govauthTokenRequest(server.url, fixture.agent, connections), rssMb: server.rssPeakMb },
    { name: 'token exchange, agent for person', options: tokenExchangeRequest(server.url, fixture.agent, subjectToken, connections), rssMb: server.rssPeakMb },
  ];
  const discovery = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as { issuer: string; jwks_uri: string };
  const expected = { issuer: discovery.issuer, jwksUrl: discovery.jwks_uri, audience: BENCH_RESOURCE };
  const own = await verifySampleToken(candidates[0]!.name, candidates[0]!.options, expected);
  const exchanged = await verifySampleToken(candidates[1]!.name, candidates[1]!.options, expected);
  const act = exchanged.claims.act as { sub?: unknown } | undefined;
  if (own.claims.sub !== fixture.agent.client_id) throw new Error(`client_credentials: the token's sub is ${String(own.claims.sub)}, not the agent`);
  if (exchanged.claims.sub !== subject.sub || act?.sub !== fixture.agent.client_id || exchanged.response.issued_token_type !== ACCESS_TOKEN_TYPE) {
    throw new Error(`token exchange: expected a token for ${String(subject.sub)} with act.sub ${fixture.agent.client_id}, got ${JSON.stringify(exchanged.claims)}`);
  }
  return candidates;
}

/** For alternate()'s onRun: a run with any non-2xx answer or error stops the benchmark. */
export function requireAllOk(round: number, r: LoadResult): void {
  if (r.non2xx || r.errors) {
    throw new Error(`${r.name}, round ${round}: ${r.non2xx} non-2xx answers and ${r.errors} errors in ${r.requests} requests; its throughput would measure failures`);
  }
}
