// What the token status list costs an instance per live token: memory (V8 heap and off-heap
// typed arrays, measured after a full GC) and the CPU of judging every bit once (a full pass,
// as after a catalogue change). Two shapes of load, each with N live tokens (default 600,000:
// 2,000 tokens/s of 5-minute tokens):
// - bots: client_credentials tokens of 50 clients, no grant (what `npm run bench:token` issues);
// - people: every token of a different person, each with its own grant, source_iat and sign-in
//   (amr, auth_time: the policy step's context) (the worst case for sharing);
// - agents: as people, each token exchanged (RFC 8693) by one of 50 agents from a person's token
//   of its own (its exchanged_from names a jti no other token names: the worst case again).
//
// Each shape runs in a process of its own, so neither measures what the other left behind.
//
//   node --expose-gc bench/status-list-memory.ts [bots|people|agents] [N]     (no shape: each, in turn)
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { RevocationState } from '../src/governance/revocation-state.ts';
import type { ClientDef, PolicySnapshot, UserDef } from '../src/governance/policy-model.ts';
import { LiveTokens, type MintedToken } from '../src/statuslist/live-tokens.ts';
import { createStatusBits } from '../src/statuslist/status-bits.ts';

const [shape, count] = process.argv.slice(2);
const N = Number(count ?? 600_000);
const SHAPES = ['bots', 'people', 'agents'] as const;
type Shape = (typeof SHAPES)[number];
if (!SHAPES.includes(shape as Shape)) {
  for (const kind of SHAPES) {
    process.stdout.write(execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), kind, String(N)], { encoding: 'utf8' }));
  }
  process.exit(0);
}
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const API = 'https://models.example';
const NOW = Date.now();
const NOW_SEC = Math.floor(NOW / 1000);
const id43 = (prefix: string, n: number): string => `${prefix}${n.toString(36).padStart(43 - prefix.length, '0')}`;

const client = (id: string): ClientDef => ({
  id,
  name: id,
  secretHash: null, secretExpiresAt: null, previousSecretHash: null, previousSecretValidUntil: null,
  grantTypes: ['client_credentials'],
  redirectUris: [],
  postLogoutRedirectUris: [],
  scopeCeiling: null,
  introspectAudience: null,
  adminAccess: false,
  disabled: false,
  roles: [{ role: 'end-user', expiresAt: null }],
});
const clients = Array.from({ length: 50 }, (_, i) => client(`cl_bot${i}`));
const agents = Array.from({ length: 50 }, (_, i) => ({ ...client(`cl_agent${i}`), roles: [{ role: 'agent', expiresAt: null }] }));
const DELEGATION = 'dp_agents';
const snapshot: PolicySnapshot = {
  scopes: new Map(['ai.prediction.run', 'ai.training.read'].map((name) => [name, { name, description: '', sensitivity: 'low', maxTtl: null }] as const)),
  resources: new Map([[API, { audience: API, name: 'API', tokenTtl: null, scopes: new Set(['ai.prediction.run', 'ai.training.read']) }]]),
  roles: new Map(['end-user', 'agent'].map((name) => [name, { name, description: '', scopes: new Set(['ai.prediction.run', 'ai.training.read']) }] as const)),
  clients: new Map([...clients, ...agents, client('cl_app')].map((c) => [c.id, c])),
  delegations: new Map([[DELEGATION, { kind: 'policy', id: DELEGATION, agentRole: 'agent', subjectRole: 'end-user', audience: API, scopes: null, maxDepth: 1, maxTtl: null, description: '' }]]),
};
const users = new Map<string, UserDef>();
const policy = { snapshot: () => snapshot, user: (id: string) => users.get(id), revocations: new RevocationState() };

const userId = (i: number): string => `usr_${i.toString(36).padStart(22, '0')}`;

function token(i: number, kind: Shape): MintedToken {
  const iat = NOW_SEC - (i % 300);
  const common = { idx: i, jti: id43('j', i), iat, exp: iat + 300, audience: API, scopes: ['ai.prediction.run'], roles: ['end-user'], chain: undefined, exchangedFrom: undefined };
  if (kind === 'bots') {
    const c = clients[i % clients.length]?.id ?? '';
    return { ...common, sub: c, clientId: c, grantId: undefined, sourceIat: undefined, context: { amr: undefined, authTime: undefined, binding: 'bearer', cibaRequest: undefined } };
  }
  const user = userId(i);
  const person: MintedToken = { ...common, sub: user, clientId: 'cl_app', grantId: id43('g', i), sourceIat: iat - 60, context: { amr: ['pwd', 'otp'], authTime: iat - 3600 - i, binding: 'bearer', cibaRequest: undefined } };
  if (kind === 'people') return person;
  const agent = agents[i % agents.length]?.id ?? '';
  // Its exchanged_from as read from its audit record: a string JSON.parse made (not a concatenation).
  return { ...person, clientId: agent, chain: [{ actor: agent, delegationId: DELEGATION }], exchangedFrom: JSON.parse(`["${id43('s', i)}"]`) as string[] };
}

function usage(): { heap: number; offHeap: number } {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, offHeap: m.arrayBuffers };
}

const mb = (bytes: number): string => `${(bytes / 1_048_576).toFixed(1)} MB`;

{
  const kind = shape as Shape;
  // The people themselves are the policy store's (loaded whatever the status list does).
  if (kind !== 'bots') for (let i = 0; i < N; i++) users.set(userId(i), { id: userId(i), email: `${userId(i)}@example.com`, disabled: false, mfaEnrolled: false, roles: [{ role: 'end-user', expiresAt: null }] });
  const before = usage();
  const tokens = new LiveTokens(1024, (id) => users.get(id)?.id);
  let flips = 0;
  const bits = createStatusBits(tokens, { policy, now: () => NOW, onFlip: () => flips++ });
  const addStart = performance.now();
  for (let i = 0; i < N; i++) {
    const r = tokens.add(token(i, kind), NOW_SEC);
    if (r.chunk && r.at !== undefined) bits.judge(r.chunk, r.at);
  }
  const addMs = performance.now() - addStart;
  const after = usage();
  const passStart = performance.now();
  bits.judgeAll();
  await bits.settled();
  const passMs = performance.now() - passStart;
  // What the table holds: the difference between holding the tokens and holding none.
  const interned = `${tokens.users.size} people, ${tokens.clients.size} clients, ${tokens.contexts.size} sign-in contexts, ${tokens.exchangedFrom.size} exchanged_from lists`;
  tokens.prune(Number.MAX_SAFE_INTEGER);
  const empty = usage();
  const heap = after.heap - Math.min(before.heap, empty.heap);
  const offHeap = after.offHeap - Math.min(before.offHeap, empty.offHeap);
  console.log(
    `${kind}: ${N} live tokens: heap +${mb(heap)} (${(heap / N).toFixed(0)} B/token), off-heap +${mb(offHeap)} (${(offHeap / N).toFixed(0)} B/token); ` +
      `add + judge ${((addMs * 1000) / N).toFixed(2)} µs/token; full pass ${passMs.toFixed(0)} ms (${((passMs * 1000) / N).toFixed(2)} µs/token); ` +
      `interned: ${interned}; flips ${flips} (tokens left ${tokens.size})`,
  );
}
