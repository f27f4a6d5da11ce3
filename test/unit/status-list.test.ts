// The token status list's pieces on their own: the bit order and compression against the
// draft's test vectors, the table of live tokens (ids, lookups, memory released at expiry), and
// the index allocator (unique, shuffled, one reservation at a time).
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ClientDef, PolicySnapshot, UserDef } from '../../src/governance/policy-model.ts';
import { RevocationState } from '../../src/governance/revocation-state.ts';
import { LiveTokens, type MintedToken } from '../../src/statuslist/live-tokens.ts';
import { createStatusBits } from '../../src/statuslist/status-bits.ts';
import { createStatusIndexAllocator } from '../../src/statuslist/status-index-allocator.ts';
import { encodeStatusList } from '../../src/statuslist/status-list-token.ts';
import { mintedTokenOf } from '../../src/statuslist/token-facts.ts';

const bitArray = (size: number, set: number[]): Uint8Array => {
  const bytes = new Uint8Array(size / 8);
  for (const i of set) bytes[i >> 3] = (bytes[i >> 3] ?? 0) | (1 << (i & 7));
  return bytes;
};

describe('status list encoding (draft-ietf-oauth-status-list-20 §4.1, appendix test vectors)', () => {
  it('puts index i at byte ⌊i/8⌋, bit i mod 8, least significant first, ZLIB-wrapped DEFLATE', () => {
    // §4.1: statuses 1,0,0,1,1,1,0,1 | 1,1,0,0,0,1,0,1 are the bytes 0xB9 0xA3.
    const bytes = bitArray(16, [0, 3, 4, 5, 7, 8, 9, 13, 15]);
    expect([...bytes]).toEqual([0xb9, 0xa3]);
    const lst = encodeStatusList(bytes);
    expect(lst).toMatch(/^[\w-]+$/);
    expect([...inflateSync(Buffer.from(lst, 'base64url'))]).toEqual([0xb9, 0xa3]);
    expect([...inflateSync(Buffer.from('eNrbuRgAAhcBXQ', 'base64url'))]).toEqual([0xb9, 0xa3]); // the draft's own encoding
  });

  it('decodes the draft’s 2^20-entry 1-bit vector to the same bits we would set', () => {
    const draft = [
      'eNrt3AENwCAMAEGogklACtKQPg9LugC9k_ACvreiogE',
      'AAKkeCQAAAAAAAAAAAAAAAAAAAIBylgQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      'AAAAAAAAAAAAAAAAAAAXG9IAAAAAAAAAPwsJAAAAAAAAAAAAAAAvhsSAAAAAAAAAAA',
      'A7KpLAAAAAAAAAAAAAAAAAAAAAJsLCQAAAAAAAAAAADjelAAAAAAAAAAAKjDMAQAAA',
      'ACAZC8L2AEb',
    ].join('');
    const set = [0, 1993, 25460, 159495, 495669, 554353, 645645, 723232, 854545, 934534, 1000345];
    const ours = bitArray(2 ** 20, set);
    expect(Buffer.compare(inflateSync(Buffer.from(draft, 'base64url')), Buffer.from(ours))).toBe(0);
    expect(Buffer.compare(inflateSync(Buffer.from(encodeStatusList(ours), 'base64url')), Buffer.from(ours))).toBe(0);
  });
});

const jti = (n: number): string => `J${String(n).padStart(42, '0')}`;
const token = (idx: number, over: Partial<MintedToken> = {}): MintedToken => ({
  idx,
  jti: jti(idx),
  iat: 1_000,
  exp: 2_000,
  sourceIat: undefined,
  grantId: undefined,
  sub: 'cl_bot',
  clientId: 'cl_bot',
  audience: 'https://models.example',
  scopes: ['ai.prediction.run'],
  roles: ['end-user'],
  chain: undefined,
  exchangedFrom: undefined,
  context: { amr: undefined, authTime: undefined, binding: 'bearer', cibaRequest: undefined },
  ...over,
});

describe('LiveTokens', () => {
  it('holds a token’s facts by index and finds it by jti; a second record of it changes nothing', () => {
    const t = new LiveTokens(64);
    const grant = 'G'.repeat(43);
    const context = { amr: ['pwd', 'otp'], authTime: 800, binding: 'dpop', cibaRequest: undefined } as const;
    expect(t.add(token(70, { sub: 'usr_a', grantId: grant, sourceIat: 900, chain: [{ actor: 'cl_agent', delegationId: 'dp_1' }], context }), 1_500).result).toBe('added');
    expect(t.add(token(70), 1_500).result).toBe('known');
    expect(t.add(token(70, { jti: jti(999) }), 1_500).result).toBe('conflict');
    expect(t.add(token(71, { exp: 1_500 }), 1_500).result).toBe('expired');
    const found = t.findJti(jti(70));
    expect(found?.chunk.base).toBe(64);
    expect(found?.at).toBe(6);
    expect(t.findJti(jti(71))).toBeUndefined();
    const facts = found && t.factsOf(found.chunk, found.at);
    expect(facts).toEqual({
      jti: jti(70),
      iat: 1_000,
      sourceIat: 900,
      grantId: grant,
      userId: 'usr_a',
      clientId: 'cl_bot',
      roles: ['end-user'],
      audiences: ['https://models.example'],
      scopes: ['ai.prediction.run'],
      scopeRule: 'all',
      chain: [{ actor: 'cl_agent', delegationId: 'dp_1' }],
      amr: ['pwd', 'otp'],
      authTime: 800,
      binding: 'dpop',
      cibaRequest: undefined,
    });
    expect(found && found.chunk.hasGrant(found.at, grant)).toBe(true);
  });

  it('keeps ids that are not 43 printable characters too', () => {
    const t = new LiveTokens(8);
    t.add(token(3, { jti: 'short', grantId: 'a grant id with spaces' }), 0);
    const found = t.findJti('short');
    expect(found && t.factsOf(found.chunk, found.at)).toMatchObject({ jti: 'short', grantId: 'a grant id with spaces' });
  });

  it('shares values among tokens and releases them with the last chunk that names them', () => {
    const t = new LiveTokens(8);
    for (let i = 0; i < 20; i++) t.add(token(i, { exp: i < 8 ? 1_100 : 3_000 }), 1_000);
    expect(t.size).toBe(20);
    expect(t.scopeSets.size).toBe(1);
    expect(t.prune(1_200)).toBe(8);
    expect(t.size).toBe(12);
    expect(t.chunkCount).toBe(2);
    expect(t.findJti(jti(3))).toBeUndefined();
    t.prune(3_000);
    expect(t.size).toBe(0);
    expect(t.scopeSets.size + t.clients.size + t.roleSets.size + t.audiences.size).toBe(0);
  });

  it('holds an exchanged token’s exchanged_from, shared among the tokens exchanged from the same ones, indexed by jti', () => {
    const t = new LiveTokens(8);
    const chain = [{ actor: 'cl_agent', delegationId: 'dp_1' }];
    const exchanged = (idx: number, from: string[]) => token(idx, { sub: 'usr_a', chain, exchangedFrom: from });
    t.add(token(0, { sub: 'usr_a' }), 1_000);
    // Two exchanges of the person's token 0, and an exchange of the first of them (two hops).
    t.add(exchanged(1, [jti(0)]), 1_000);
    t.add(exchanged(2, [jti(0)]), 1_000);
    t.add(exchanged(9, [jti(1), jti(0)]), 1_000);
    const facts = (i: number) => {
      const found = t.findJti(jti(i));
      return found && t.factsOf(found.chunk, found.at);
    };
    expect(facts(0)?.exchangedFrom).toBeUndefined();
    expect(facts(2)).toMatchObject({ chain, exchangedFrom: [jti(0)] });
    expect(facts(9)).toMatchObject({ chain, exchangedFrom: [jti(1), jti(0)] });
    expect(t.exchangedFrom.size).toBe(2);
    // Only a chunk holding an exchanged token has the column.
    t.add(token(16), 1_000);
    expect(t.chunk(2)?.exchangedFrom).toBeUndefined();
    // The lists naming a jti, and the tokens holding them.
    const holding = (j: string) => {
      const lists = t.exchangedFrom.naming(j);
      const idx: number[] = [];
      if (!lists) return idx;
      t.forEachSlot((chunk, at) => {
        if (t.exchangedFromIn(chunk, at, lists)) idx.push(chunk.base + at);
      });
      return idx;
    };
    expect(holding(jti(0))).toEqual([1, 2, 9]);
    expect(holding(jti(1))).toEqual([9]);
    expect(holding(jti(2))).toEqual([]);
    // Tokens exchanged from the same tokens share a verdict; from others, not.
    const key = (i: number) => {
      const found = t.findJti(jti(i));
      return found && t.memoKey(found.chunk, found.at);
    };
    expect(key(1)).toBe(key(2));
    expect(key(9)).not.toBe(key(1));
    // The lists and their index entries go with the last token naming them.
    expect(t.prune(3_000)).toBe(5);
    expect(t.exchangedFrom.size).toBe(0);
    expect(t.exchangedFrom.indexed).toBe(0);
    expect(t.exchangedFrom.naming(jti(0))).toBeUndefined();
  });

  it('releases an exchanged_from list and its index entries with the last token naming it', () => {
    const t = new LiveTokens(8);
    const chain = [{ actor: 'cl_agent', delegationId: 'dp_1' }];
    t.add(token(1, { sub: 'usr_a', chain, exchangedFrom: [jti(0)], exp: 1_100 }), 1_000);
    t.add(token(8, { sub: 'usr_a', chain, exchangedFrom: [jti(0)], exp: 1_500 }), 1_000);
    t.add(token(9, { sub: 'usr_a', chain, exchangedFrom: [jti(8), jti(0)], exp: 1_500 }), 1_000);
    expect(t.exchangedFrom.indexed).toBe(2);
    expect(t.prune(1_200)).toBe(1);
    expect([...(t.exchangedFrom.naming(jti(0)) ?? [])]).toHaveLength(2);
    t.prune(1_500);
    expect(t.exchangedFrom.size).toBe(0);
    expect(t.exchangedFrom.indexed).toBe(0);
  });

  it('shares a sign-in context among its tokens; a bearer token of no sign-in names none', () => {
    const t = new LiveTokens(8);
    const signIn = { amr: ['pwd'], authTime: 900, binding: 'bearer', cibaRequest: 'req_1' } as const;
    for (let i = 0; i < 4; i++) t.add(token(i, { sub: 'usr_a', context: signIn }), 1_000);
    t.add(token(4, { sub: 'usr_a', context: { ...signIn, binding: 'dpop' } }), 1_000);
    t.add(token(5), 1_000);
    expect(t.contexts.size).toBe(2);
    const facts = (i: number) => {
      const found = t.findJti(jti(i));
      return found && t.factsOf(found.chunk, found.at);
    };
    expect(facts(3)).toMatchObject(signIn);
    expect(facts(4)).toMatchObject({ ...signIn, binding: 'dpop' });
    expect(facts(5)).toMatchObject({ amr: undefined, authTime: undefined, binding: 'bearer', cibaRequest: undefined });
    t.prune(3_000);
    expect(t.contexts.size).toBe(0);
  });
});

describe('status index allocator', () => {
  it('hands out every index of its blocks once, not in order, reserving one block at a time', async () => {
    let next = 0;
    let reservations = 0;
    const alloc = createStatusIndexAllocator({
      reserve: async () => {
        reservations++;
        await new Promise((r) => setTimeout(r, 5));
        const start = next;
        next += 16;
        return start;
      },
      blockSize: 16,
      maxAgeMs: 60_000,
      now: Date.now,
    });
    const got = await Promise.all(Array.from({ length: 40 }, () => Promise.resolve(alloc.next())));
    expect(new Set(got).size).toBe(40);
    expect(Math.max(...got)).toBeLessThan(48);
    expect(reservations).toBeLessThanOrEqual(4); // three blocks and at most one prefetch
    const first = got.slice(0, 16);
    expect(first).not.toEqual([...first].sort((a, b) => a - b));
    expect(alloc.highWater()).toBe(next);
  });

  it('stops using a block once it is older than its maximum age', async () => {
    let clock = 0;
    let next = 0;
    const alloc = createStatusIndexAllocator({ reserve: () => Promise.resolve((next += 8) - 8), blockSize: 8, maxAgeMs: 1000, now: () => clock });
    const a = await alloc.next();
    clock += 1001;
    const b = await alloc.next();
    expect(Math.floor(a / 8)).toBe(0);
    expect(Math.floor(b / 8)).toBe(1);
  });
});

describe('token facts from audit details', () => {
  it('reads what token-audit.ts records and skips records without a status index', () => {
    const detail = { jti: jti(1), sub: 'usr_a', client_id: 'cl_app', aud: 'https://models.example', scopes: ['a'], roles: ['r'], iat: 100, lifetime: 300, status_list: 2, status_idx: 7, source_iat: 90, grant_id: 'g', act: ['cl_x'], delegations: ['dp_1'] };
    expect(mintedTokenOf(detail, 16)).toMatchObject({ idx: 39, exp: 400, sourceIat: 90, grantId: 'g', chain: [{ actor: 'cl_x', delegationId: 'dp_1' }] });
    expect(mintedTokenOf({ ...detail, status_idx: undefined }, 16)).toBeUndefined();
    expect(mintedTokenOf({ ...detail, status_idx: 16 }, 16)).toBeUndefined();
    expect(mintedTokenOf({ ...detail, act: ['a', 'b'] }, 16)).toBeUndefined();
  });

  it('reads an exchanged token’s exchanged_from as its claim has it; an older record without one is read as before', () => {
    const detail = { jti: jti(2), sub: 'usr_a', client_id: 'cl_x', aud: 'https://models.example', scopes: ['a'], roles: [], iat: 100, lifetime: 300, status_list: 0, status_idx: 2, act: ['cl_x'], delegations: ['dp_1'], subject_token_jti: jti(1) };
    expect(mintedTokenOf({ ...detail, exchanged_from: [jti(1), jti(0)] }, 16)?.exchangedFrom).toEqual([jti(1), jti(0)]);
    expect(mintedTokenOf(detail, 16)).toMatchObject({ chain: [{ actor: 'cl_x', delegationId: 'dp_1' }], exchangedFrom: undefined });
    // Not what token-audit.ts writes (act-claim.ts exchangedFromOf): not a token govauth describes.
    for (const exchangedFrom of [[], [''], 'j', [1], Array.from({ length: 11 }, (_, i) => jti(i))]) {
      expect(mintedTokenOf({ ...detail, exchanged_from: exchangedFrom }, 16), JSON.stringify(exchangedFrom)).toBeUndefined();
    }
    expect(mintedTokenOf({ ...detail, act: undefined, delegations: undefined, exchanged_from: [jti(1)] }, 16)).toBeUndefined();
  });

  it('reads the context the policy step judges a token in: amr, auth_time, binding, its CIBA approval', () => {
    const detail = { jti: jti(1), sub: 'usr_a', client_id: 'cl_agent', aud: 'https://models.example', scopes: ['a'], roles: [], iat: 100, lifetime: 300, status_list: 0, status_idx: 1 };
    expect(mintedTokenOf({ ...detail, amr: ['pwd', 'otp'], auth_time: 90, binding: 'dpop', ciba_request: 'req_1' }, 16)?.context).toEqual({ amr: ['pwd', 'otp'], authTime: 90, binding: 'dpop', cibaRequest: 'req_1' });
    expect(mintedTokenOf({ ...detail, binding: 'mtls' }, 16)?.context).toEqual({ amr: undefined, authTime: undefined, binding: 'mtls', cibaRequest: undefined });
    // Not well formed, or from before the context was recorded: a bearer token of no known sign-in.
    expect(mintedTokenOf({ ...detail, amr: 'pwd', auth_time: '90', binding: 'other', ciba_request: '' }, 16)?.context).toEqual({ amr: undefined, authTime: undefined, binding: 'bearer', cibaRequest: undefined });
    // An exchanged token acts on delegations, never on a CIBA approval (act-claim.ts approvalOf).
    expect(mintedTokenOf({ ...detail, act: ['cl_x'], delegations: ['dp_1'], ciba_request: 'req_1' }, 16)?.context.cibaRequest).toBeUndefined();
  });
});

describe('status bits', () => {
  const API = 'https://models.example';
  const clientDef = (id: string, disabled = false): ClientDef => ({
    id,
    name: id,
    secretHash: null, secretExpiresAt: null, previousSecretHash: null, previousSecretValidUntil: null,
    grantTypes: ['client_credentials'],
    redirectUris: [],
    postLogoutRedirectUris: [],
    scopeCeiling: null,
    introspectAudience: null,
    adminAccess: false,
    disabled,
    roles: [{ role: 'end-user', expiresAt: null }],
  });
  const world = (disabled: string[] = []): PolicySnapshot => ({
    scopes: new Map([['ai.prediction.run', { name: 'ai.prediction.run', description: '', sensitivity: 'low', maxTtl: null }]]),
    resources: new Map([[API, { audience: API, name: 'API', tokenTtl: null, scopes: new Set(['ai.prediction.run']) }]]),
    roles: new Map([['end-user', { name: 'end-user', description: '', scopes: new Set(['ai.prediction.run']) }]]),
    clients: new Map(['cl_a', 'cl_b', 'cl_app'].map((id) => [id, clientDef(id, disabled.includes(id))])),
    delegations: new Map(),
  });
  const NOW = 1_500_000;

  it('re-judges exactly the tokens a change can affect, as introspection would', async () => {
    let snapshot = world();
    const revocations = new RevocationState();
    const users = new Map<string, UserDef>([['usr_p', { id: 'usr_p', email: 'p@example.com', disabled: false, mfaEnrolled: false, roles: [{ role: 'end-user', expiresAt: null }] }]]);
    const policy = { snapshot: () => snapshot, user: (id: string) => users.get(id), revocations };
    const t = new LiveTokens(8);
    const flipped: number[] = [];
    const bits = createStatusBits(t, { policy, now: () => NOW * 1000, onFlip: (i) => flipped.push(i) });
    const base = { exp: NOW + 300, iat: NOW - 10 };
    const add = (m: MintedToken) => {
      const r = t.add(m, NOW);
      if (r.chunk && r.at !== undefined) bits.judge(r.chunk, r.at);
    };
    add(token(0, { ...base, clientId: 'cl_a', sub: 'cl_a' }));
    add(token(1, { ...base, clientId: 'cl_a', sub: 'cl_a' }));
    add(token(2, { ...base, clientId: 'cl_b', sub: 'cl_b' }));
    add(token(3, { ...base, clientId: 'cl_app', sub: 'usr_p', grantId: 'G'.repeat(43) }));
    const bit = (i: number) => (t.chunk(Math.floor(i / 8))?.invalid(i % 8) ? 1 : 0);
    expect([0, 1, 2, 3].map(bit)).toEqual([0, 0, 0, 0]);

    // One token revoked: only it.
    revocations.set({ id: 1, kind: 'token', key: jti(1), cutoff: NOW * 1000, expiresAt: (NOW + 300) * 1000, reason: null, actor: null });
    bits.changed([{ kind: 'revocation', key: `token:${jti(1)}` }]);
    await bits.settled();
    expect([0, 1, 2, 3].map(bit)).toEqual([0, 1, 0, 0]);
    // A client disabled: its tokens, not the others'.
    snapshot = world(['cl_b']);
    bits.changed([{ kind: 'client', key: 'cl_b' }]);
    await bits.settled();
    expect([0, 1, 2, 3].map(bit)).toEqual([0, 1, 1, 0]);
    // The person's grant revoked.
    revocations.set({ id: 2, kind: 'grant', key: 'G'.repeat(43), cutoff: NOW * 1000, expiresAt: (NOW + 300) * 1000, reason: null, actor: null });
    bits.changed([{ kind: 'revocation', key: `grant:${'G'.repeat(43)}` }]);
    await bits.settled();
    expect([0, 1, 2, 3].map(bit)).toEqual([0, 1, 1, 1]);
    // The role loses its scope: every token judged again.
    snapshot = { ...world(['cl_b']), roles: new Map([['end-user', { name: 'end-user', description: '', scopes: new Set<string>() }]]) };
    bits.changed([{ kind: 'role', key: 'end-user' }]);
    await bits.settled();
    expect([0, 1, 2, 3].map(bit)).toEqual([1, 1, 1, 1]);
    expect(flipped).toEqual([1, 2, 3, 0]);
  });

  it('re-judges the tokens exchanged from a revoked token, at any depth, and no others', async () => {
    const standing = (id: string, clientId: string) => [id, { kind: 'standing', id, userId: 'usr_p', clientId, audience: API, scopes: new Set(['ai.prediction.run']), maxDepth: 2, expiresAt: null }] as const;
    const base = world();
    const snapshot: PolicySnapshot = {
      ...base,
      clients: new Map([...base.clients, ...['cl_agent', 'cl_worker'].map((id) => [id, clientDef(id)] as const)]),
      delegations: new Map([standing('sd_agent', 'cl_agent'), standing('sd_worker', 'cl_worker')]),
    };
    const revocations = new RevocationState();
    const users = new Map<string, UserDef>([['usr_p', { id: 'usr_p', email: 'p@example.com', disabled: false, mfaEnrolled: false, roles: [{ role: 'end-user', expiresAt: null }] }]]);
    const t = new LiveTokens(8);
    const flipped: number[] = [];
    const bits = createStatusBits(t, { policy: { snapshot: () => snapshot, user: (id: string) => users.get(id), revocations }, now: () => NOW * 1000, onFlip: (i) => flipped.push(i) });
    const person = { exp: NOW + 300, iat: NOW - 10, sub: 'usr_p', grantId: 'G'.repeat(43) };
    const agent = { ...person, clientId: 'cl_agent', chain: [{ actor: 'cl_agent', delegationId: 'sd_agent' }] };
    const worker = { ...person, clientId: 'cl_worker', chain: [{ actor: 'cl_worker', delegationId: 'sd_worker' }, ...agent.chain] };
    const held = [
      token(0, { ...person, clientId: 'cl_app' }),
      token(1, { ...agent, exchangedFrom: [jti(0)] }),
      token(2, { ...worker, exchangedFrom: [jti(1), jti(0)] }),
      // The same person's other sign-in, exchanged too: nothing to do with token 0.
      token(3, { ...person, clientId: 'cl_app', grantId: 'H'.repeat(43) }),
      token(4, { ...agent, grantId: 'H'.repeat(43), exchangedFrom: [jti(3)] }),
    ];
    for (const m of held) {
      const r = t.add(m, NOW);
      if (r.chunk && r.at !== undefined) bits.judge(r.chunk, r.at);
    }
    const bit = (i: number) => (t.chunk(Math.floor(i / 8))?.invalid(i % 8) ? 1 : 0);
    expect([0, 1, 2, 3, 4].map(bit)).toEqual([0, 0, 0, 0, 0]);
    const revoke = async (n: number) => {
      revocations.set({ id: n, kind: 'token', key: jti(n), cutoff: NOW * 1000, expiresAt: (NOW + 300) * 1000, reason: null, actor: null });
      bits.changed([{ kind: 'revocation', key: `token:${jti(n)}` }]);
      await bits.settled();
    };
    // The agent's token revoked (RFC 7009): it and the worker's token exchanged from it.
    await revoke(1);
    expect([0, 1, 2, 3, 4].map(bit)).toEqual([0, 1, 1, 0, 0]);
    // The person's token revoked: it too; the other sign-in's tokens stay valid.
    await revoke(0);
    expect([0, 1, 2, 3, 4].map(bit)).toEqual([1, 1, 1, 0, 0]);
    expect(flipped).toEqual([1, 2, 0]);
    // A token exchanged from a revoked one is invalid from the moment it is held.
    const late = t.add(token(5, { ...agent, exchangedFrom: [jti(0)] }), NOW);
    if (late.chunk && late.at !== undefined) bits.judge(late.chunk, late.at);
    expect(bit(5)).toBe(1);
  });
});
