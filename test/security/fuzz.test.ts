// Property-based fuzzing of the protocol endpoints with fast-check, over real HTTP: arbitrary
// form fields (the parameters these endpoints know, mixed with random ones, duplicated, with
// Unicode, control characters and very long values), arbitrary bodies and content types, and
// missing, garbage or valid client credentials so the fuzz gets past authentication.
// Property: every answer is a 2xx, or a 4xx carrying an OAuth error code; never a 5xx, never a
// hang. The seed is fixed (FUZZ_SEED overrides it) and fast-check prints it with any
// counterexample, so a failure replays exactly.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5ec0417);
const RUNS = 300;
const REQUEST_TIMEOUT_MS = 5000;
const MODELS = 'https://models.example';
const REDIRECT = 'http://127.0.0.1:9/cb';

let t: TestServer;
let bot: ClientCreds;
let rs: ClientCreds;
let app: ClientCreds;
let accessToken: string;
let revocable: string;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  rs = await t.cliJson<ClientCreds>('client', 'create', '--name', 'model-api', '--resource', MODELS, '--introspect');
  app = await t.cliJson<ClientCreds>('client', 'create', '--name', 'app', '--grant', 'authorization_code', '--redirect-uri', REDIRECT);
  await t.server.policy.sync();
  const token = async (): Promise<string> => String((await tokenRequest(t.url, { grant_type: 'client_credentials', resource: MODELS }, { basic: bot })).body.access_token);
  accessToken = await token();
  revocable = await token();
});
afterAll(() => t?.stop());

const KNOWN = ['grant_type', 'scope', 'resource', 'client_id', 'client_secret', 'token', 'token_type_hint', 'code', 'redirect_uri', 'refresh_token', 'code_verifier', 'audience', 'assertion'];
const AUTHORIZE = ['client_id', 'response_type', 'redirect_uri', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'prompt', 'resource', 'max_age', 'acr_values', 'claims', 'request', 'request_uri', 'response_mode', 'login_hint', 'ui_locales', 'id_token_hint'];

/** Values that mean something to these endpoints, so random requests are often almost valid. */
const meaningful = (): fc.Arbitrary<string> =>
  fc.constantFrom(
    'client_credentials', 'authorization_code', 'refresh_token', 'password', 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    MODELS, 'urn:govauth:admin', 'ai.training.read', 'ai.deploy.manage govauth.admin', 'openid offline_access', 'code', 'S256', 'plain',
    'access_token', 'consent', 'login none', REDIRECT, bot.client_id, bot.client_secret, rs.client_id, app.client_id, app.client_secret,
    accessToken, revocable, `${accessToken}x`, accessToken.split('.').slice(0, 2).join('.'), 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', '{"id_token":{"acr":null}}',
  );
const value = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: meaningful() },
    { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) }, // any code point: Unicode, NUL, controls
    { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.nat(20_000).map((n) => 'a'.repeat(n)) }, // up to past the body limit
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '%', '%ZZ', '%C3%28', '%00', '\u0000', '\ud83e', '[]', '{}', '__proto__', 'constructor') },
  );
const fields = (names: string[], maxLength = 10): fc.Arbitrary<[string, string][]> =>
  fc.array(fc.tuple(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) }), value()), { maxLength });
/** A valid request's fields, some left out, in any order, plus a few arbitrary ones: deep paths. */
const mutated = (valid: [string, string][], names: string[]): fc.Arbitrary<[string, string][]> =>
  fc.tuple(fc.shuffledSubarray(valid), fields(names, 3)).map(([kept, extra]) => [...kept, ...extra]);

/** Printable ASCII: what a header value may hold (fetch itself refuses anything else). */
const headerText = (maxLength = 60): fc.Arbitrary<string> => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });
/** Mostly the valid credentials of the client this endpoint serves, so requests get past authentication. */
const credentials = (owner: ClientCreds): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(basic(owner)) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom(basic(bot), basic(rs), basic(app), basic({ client_id: owner.client_id, client_secret: 'wrong' }), 'Basic', 'Basic !!!', `Bearer ${accessToken}`) },
    { weight: 1, arbitrary: fc.tuple(fc.oneof(meaningful(), fc.string({ unit: 'binary', maxLength: 20 })), fc.string({ unit: 'binary', maxLength: 20 })).map(([id, secret]) => basic({ client_id: id, client_secret: secret })) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((x) => `Basic ${Buffer.from(x).toString('base64')}`) },
    { weight: 1, arbitrary: headerText() },
  );
const contentType = (): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constant('application/x-www-form-urlencoded') },
    { weight: 3, arbitrary: fc.constantFrom(undefined, 'application/x-www-form-urlencoded; charset=utf-8', 'application/x-www-form-urlencoded; charset=latin1', 'application/json', 'text/plain', 'multipart/form-data; boundary=x', '*/*', '') },
    { weight: 1, arbitrary: headerText(40) },
  );
/** The body: properly encoded, raw (so %, & and = arrive unescaped), JSON, or bytes. */
const body = (valid: [string, string][], names: string[]): fc.Arbitrary<string | Uint8Array> => {
  const f = fc.oneof({ weight: 3, arbitrary: mutated(valid, names) }, { weight: 1, arbitrary: fields(names) });
  return fc.oneof(
    { weight: 6, arbitrary: f.map((x) => new URLSearchParams(x).toString()) },
    { weight: 2, arbitrary: f.map((x) => x.map(([k, v]) => `${k}=${v}`).join('&')) },
    { weight: 1, arbitrary: f.map((x) => JSON.stringify(Object.fromEntries(x))) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  );
};
const postRequest = (owner: ClientCreds, valid: [string, string][], names: string[]): fc.Arbitrary<PostRequest> =>
  fc.record({ body: body(valid, names), authorization: credentials(owner), contentType: contentType(), accept: fc.constantFrom(undefined, 'application/json', 'application/token-introspection+jwt', '*/*', 'text/html') });
interface PostRequest { body: string | Uint8Array; authorization: string | undefined; contentType: string | undefined; accept: string | undefined }

/** 2xx, or a 4xx whose JSON body names an OAuth error; anything else (5xx, HTML, a hang) fails. */
async function expectOAuthAnswer(res: Response, what: string): Promise<void> {
  const text = await res.text();
  if (res.status >= 200 && res.status < 300) return;
  expect(res.status, `${what} → ${res.status} ${text.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${what} → ${res.status} ${text.slice(0, 300)}`).toBeLessThan(500);
  let error: unknown;
  try {
    error = (JSON.parse(text) as { error?: unknown }).error;
  } catch {
    error = undefined;
  }
  expect(typeof error, `${what} → ${res.status} without an OAuth error: ${text.slice(0, 300)}`).toBe('string');
  expect(error).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/); // RFC 6749 §5.2: error is printable ASCII
}

async function send(path: string, r: PostRequest): Promise<void> {
  const headers: Record<string, string> = {};
  if (r.contentType !== undefined) headers['content-type'] = r.contentType;
  if (r.authorization !== undefined) headers.authorization = r.authorization;
  if (r.accept !== undefined) headers.accept = r.accept;
  const res = await fetch(`${t.url}${path}`, { method: 'POST', headers, body: r.body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  await expectOAuthAnswer(res, `POST ${path}`);
}

const fuzzPost = (path: string, owner: ClientCreds, valid: [string, string][], numRuns = RUNS): Promise<void> =>
  fc.assert(fc.asyncProperty(postRequest(owner, valid, KNOWN), (r) => send(path, r)), { seed: SEED, numRuns, endOnFailure: true });

// Concurrent: a refused authentication waits as long as an argon2 verification would (no CPU,
// client-secrets.ts), so the four properties overlap their waits instead of adding them up.
describe.concurrent(`protocol endpoints under property-based fuzzing (seed ${SEED})`, () => {
  it(`POST /token answers every request with 2xx or a 4xx OAuth error, within ${REQUEST_TIMEOUT_MS} ms`, async () => {
    await fuzzPost('/token', bot, [['grant_type', 'client_credentials'], ['resource', MODELS], ['scope', 'ai.training.read']]);
  }, 60_000);

  it(`POST /token/introspection answers every request with 2xx or a 4xx OAuth error, within ${REQUEST_TIMEOUT_MS} ms`, async () => {
    await fuzzPost('/token/introspection', rs, [['token', accessToken], ['token_type_hint', 'access_token']]);
  }, 60_000);

  it(`POST /token/revocation answers every request with 2xx or a 4xx OAuth error, within ${REQUEST_TIMEOUT_MS} ms`, async () => {
    await fuzzPost('/token/revocation', bot, [['token', revocable], ['token_type_hint', 'access_token']], RUNS / 2);
  }, 60_000);

  it(`GET /auth answers every query string without a 5xx, within ${REQUEST_TIMEOUT_MS} ms`, async () => {
    const base = fc.constantFrom<Record<string, string>>({}, { client_id: app.client_id, response_type: 'code', redirect_uri: REDIRECT, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
    // Encoded, or raw: the URL parser then percent-encodes what it must, and %, & and = stay live.
    const query = fc.tuple(base, fields(AUTHORIZE), fc.boolean()).map(([b, f, raw]) => {
      const qs = new URLSearchParams(b).toString();
      const extra = raw ? f.map(([k, v]) => `${k}=${v}`).join('&') : new URLSearchParams(f).toString();
      return [qs, extra].filter(Boolean).join('&');
    });
    await fc.assert(
      fc.asyncProperty(query, async (qs) => {
        const res = await fetch(`${t.url}/auth?${qs}`, { redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        const text = await res.text();
        const what = `GET /auth?${qs.slice(0, 200)} → ${res.status} ${text.slice(0, 200)}`;
        expect(res.status, what).toBeLessThan(500);
        if (res.status === 431) return void expect(qs.length, what).toBeGreaterThan(10_000); // Node's 16 KiB header limit
        // A redirect (to sign-in, or back to the app with an error), or an error page naming the code.
        if (res.status >= 300 && res.status < 400) expect(res.headers.get('location'), what).toBeTruthy();
        else if (res.status >= 400) expect(text, what).toMatch(/Error code: <code>[a-z_]+<\/code>/);
        else expect(res.status, what).toBe(200);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  }, 60_000);

});

describe('after the fuzzing', () => {
  it('still issues a normal token: 200', async () => {
    const r = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: MODELS, scope: 'ai.training.read' }, { basic: bot });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: 'Bearer', scope: 'ai.training.read' });
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
  });
});
