// Verification throughput of the core path on one core: authorize() on a Bearer token whose key
// is cached (header parsing, RS256 signature, claims, scope check), no status list, no usage
// reports. Beside it, in the same run, the bare node:crypto RS256 verify it rests on and jose's
// jwtVerify (WebCrypto), so the figure can be read as a ratio on a shared machine.
//
//   npm run bench                        # BENCH_DURATION seconds per candidate (default 5), 3 rounds
//   BENCH_DURATION=2 BENCH_ROUNDS=1 npm run bench    # a smoke run
import { generateKeyPairSync, verify } from 'node:crypto';
import { SignJWT, createLocalJWKSet, exportJWK, jwtVerify } from 'jose';
import { createResourceServer } from '../src/index.ts';

const DURATION = Number(process.env.BENCH_DURATION ?? 5) * 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TARGET = 20_000;
const ISSUER = 'https://auth.example';
const AUDIENCE = 'https://models.example';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
const documents: Record<string, unknown> = {
  [`${ISSUER}/.well-known/oauth-authorization-server`]: { issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` },
  [`${ISSUER}/jwks`]: { keys: [jwk] },
};
const kit = createResourceServer({
  issuer: ISSUER,
  audience: AUDIENCE,
  fetch: (input) => Promise.resolve(Response.json(documents[input instanceof Request ? input.url : input.toString()])),
});
const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({ client_id: 'cl_bot', scope: 'ai.prediction.run ai.training.read', roles: ['data-scientist'], jti: 'j1' })
  .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'k1' })
  .setIssuer(ISSUER)
  .setAudience(AUDIENCE)
  .setSubject('cl_bot')
  .setIssuedAt(now)
  .setExpirationTime(now + 3600)
  .sign(privateKey);
const facts = { method: 'GET', url: '/predict', headers: { authorization: [`Bearer ${token}`] } };
const route = kit.route({ scopes: ['ai.prediction.run'] });
const first = await kit.authorize(facts, route);
if (!first.ok) throw new Error(`the benchmark token is refused: ${first.refusal.description}`);

const [h, p, s] = token.split('.');
const input = Buffer.from(`${h}.${p}`);
const signature = Buffer.from(s ?? '', 'base64url');
const joseKeys = createLocalJWKSet({ keys: [jwk] });

const candidates: Array<[string, () => unknown]> = [
  ['kit authorize()', () => kit.authorize(facts, route)],
  ['node:crypto RS256 verify', () => verify('sha256', input, publicKey, signature)],
  ['jose jwtVerify', () => jwtVerify(token, joseKeys, { issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt', algorithms: ['RS256'] })],
];

async function measure(fn: () => unknown): Promise<number> {
  let n = 0;
  const end = performance.now() + DURATION;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) await fn();
    n += 100;
  }
  return (n * 1000) / DURATION;
}

const results = new Map<string, number[]>(candidates.map(([name]) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, fn] of round % 2 ? [...candidates].reverse() : candidates) results.get(name)?.push(await measure(fn));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
console.log(`Node ${process.version}, ${ROUNDS} round(s) × ${DURATION / 1000} s each, one core (the main thread)`);
for (const [name, xs] of results) console.log(`${name.padEnd(26)} ${Math.round(median(xs)).toLocaleString('en').padStart(8)} /s   (rounds: ${xs.map((x) => Math.round(x)).join(', ')})`);
const kitRate = median(results.get('kit authorize()') ?? []);
console.log(`target ≥ ${TARGET.toLocaleString('en')}/s: ${kitRate >= TARGET ? 'met' : 'NOT met'}`);
process.exitCode = kitRate >= TARGET ? 0 : 1;
