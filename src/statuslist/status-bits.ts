// Each held token's status bit is introspection's verdict (token-liveness.ts tokenLiveness, the
// very function introspection calls, act chain included): 1 when introspection would answer
// inactive for a reason other than expiry. A bit is judged when the token arrives and again
// whenever a change could alter the verdict (the change feed, as the policy store applies it):
// - a revocation of one token, one grant, a person, a client or a role: the tokens naming it
//   (a token also as one an exchanged token was exchanged from, at any depth of its chain: its
//   exchanged_from, found through exchanged-from-lists.ts's index; a client also as an actor of a
//   chain; a role also through any chain's delegation policy). An exchanged token carries the
//   grant_id of the person's token it descends from, so a grant's revocation finds it already;
// - a person changed (disabled, roles): their tokens; a client changed: its tokens, also as an
//   actor of a chain (nothing else of a client enters another's verdict);
// - the rest of the catalogue (scopes, resources, roles, delegations): every token;
// - the Cedar policy step (token-liveness.ts livePolicy, abac-store.ts): a policy set activated
//   or rolled back, or a zone changed: every token; an attribute or label of a person, client,
//   resource or scope: the tokens naming that subject. As promptly as a role change, so the list
//   never lags introspection, which reads the same policy store.
// Nothing else changes a verdict before the token expires: a token's lifetime already stops at
// the end of every role grant and delegation it depends on (policy-model.ts tokenLifetime,
// delegation.ts chainTtlCap). A slow full pass runs anyway, as a safety net.
// Work is done a slice at a time so a full pass over 600,000 tokens never holds the event loop,
// and targeted work (a revocation) goes ahead of a full pass under way rather than after it.
import type { PolicyStore } from '../governance/policy-store.ts';
import { tokenLiveness } from '../introspection/token-liveness.ts';
import type { Clock } from '../time/clock.ts';
import type { Chunk, LiveTokens } from './live-tokens.ts';

/** Changes whose effect on a token is not confined to the tokens naming the key. */
const CATALOGUE_KINDS = new Set(['scope', 'resource', 'role', 'delegation', 'abac-policy', 'abac-zone']);
const SLICE_MS = 5;

type Affected = (chunk: Chunk, at: number) => boolean;

export interface StatusBitsDeps {
  readonly policy: Pick<PolicyStore, 'snapshot' | 'user' | 'revocations' | 'abac'>;
  readonly now: Clock;
  /** Told of every bit that changed, by status-list index. */
  readonly onFlip: (idx: number) => void;
}

export interface StatusBits {
  /** Judges one token now (a token just added). */
  judge(chunk: Chunk, at: number): void;
  /** Re-judges what `changes` (change-feed rows) can affect, in the background. */
  changed(changes: readonly { kind: string; key: string }[]): void;
  /** Re-judges every token, in the background. */
  judgeAll(): void;
  /** Resolves once no work is pending. */
  settled(): Promise<void>;
}

export function createStatusBits(tokens: LiveTokens, deps: StatusBitsDeps): StatusBits {
  const { revocations } = deps.policy;
  let all = false;
  let targets: Affected[] = [];
  let running: Promise<void> | undefined;

  /**
   * tokenLiveness reads a token's jti and grant_id only to look them up among the revocations
   * (revocation-state.ts check), so tokens alike in everything else (memoKey) share a verdict
   * unless their own jti or grant is revoked. Issued in the same second by the same client for
   * the same scopes, client_credentials tokens are judged once, not once each.
   */
  const judge = (chunk: Chunk, at: number, memo?: Map<string, boolean>): void => {
    const facts = tokens.factsOf(chunk, at);
    const ownRevocation = (facts.jti !== undefined && revocations.get('token', facts.jti)) || (facts.grantId !== undefined && revocations.get('grant', facts.grantId));
    let invalid: boolean | undefined;
    const key = memo && !ownRevocation ? tokens.memoKey(chunk, at) : undefined;
    if (key !== undefined) invalid = memo?.get(key);
    if (invalid === undefined) {
      invalid = tokenLiveness(deps, facts) !== undefined;
      if (key !== undefined) memo?.set(key, invalid);
    }
    if (chunk.setInvalid(at, invalid)) deps.onFlip(chunk.base + at);
  };

  const namingClient = (clientId: string): Affected => {
    const id = tokens.clients.idOf(clientId);
    const chains = tokens.chains.idsWhere((chain) => chain.some((hop) => hop.actor === clientId));
    return (chunk, at) => tokens.names(chunk, at, { clients: new Set(id === undefined ? [] : [id]), chains });
  };

  const namingPerson = (userId: string): Affected | undefined => {
    const id = tokens.users.idOf(userId);
    return id === undefined ? undefined : (chunk, at) => tokens.names(chunk, at, { users: new Set([id]) });
  };

  /** An attribute change (abac-admin.ts): `person:<id>`, `client:<id>`, `resource:<audience>`, `scope:<name>`. */
  const namingSubject = (subject: string): Affected | 'all' | undefined => {
    const split = subject.indexOf(':');
    const kind = subject.slice(0, split);
    const key = subject.slice(split + 1);
    switch (kind) {
      case 'person':
        return namingPerson(key);
      case 'client':
        return namingClient(key);
      case 'resource': {
        const id = tokens.audiences.idOf(key);
        return id === undefined ? undefined : (chunk, at) => tokens.names(chunk, at, { audiences: new Set([id]) });
      }
      case 'scope': {
        const scopeSets = tokens.scopeSets.idsWhere((scopes) => scopes.includes(key));
        return (chunk, at) => tokens.names(chunk, at, { scopeSets });
      }
      default:
        return 'all';
    }
  };

  const affectedBy = (change: { kind: string; key: string }): Affected | 'all' | undefined => {
    if (CATALOGUE_KINDS.has(change.kind)) return 'all';
    if (change.kind === 'client') return namingClient(change.key);
    if (change.kind === 'user') return namingPerson(change.key);
    if (change.kind === 'abac-attribute') return namingSubject(change.key);
    if (change.kind !== 'revocation') return undefined;
    const split = change.key.indexOf(':');
    const kind = change.key.slice(0, split);
    const key = change.key.slice(split + 1);
    switch (kind) {
      case 'token': {
        // The token itself, and every live token exchanged from it (token-exchange.ts chainLiveness).
        const found = tokens.findJti(key);
        const lists = tokens.exchangedFrom.naming(key);
        if (!lists) return found ? (chunk, at) => chunk === found.chunk && at === found.at : undefined;
        return (chunk, at) => (chunk === found?.chunk && at === found.at) || tokens.exchangedFromIn(chunk, at, lists);
      }
      case 'grant':
        return (chunk, at) => chunk.hasGrant(at, key);
      case 'user':
        return namingPerson(key);
      case 'client':
        return namingClient(key);
      case 'role': {
        // A chain also depends on its delegation policies' roles (token-exchange.ts chainRoles).
        const roleSets = tokens.roleSets.idsWhere((roles) => roles.includes(key));
        const chains = tokens.chains.idsWhere(() => true);
        return (chunk, at) => tokens.names(chunk, at, { roleSets, chains });
      }
      default:
        return 'all';
    }
  };

  /** Judges the held tokens `affected` accepts (every one: undefined), a slice at a time. */
  const sweep = async (affected: Affected[] | undefined, between: () => Promise<void>): Promise<void> => {
    const memo = new Map<string, boolean>();
    let sliceStart = performance.now();
    for (const chunk of tokens.chunks()) {
      if (tokens.chunk(chunk.base / tokens.chunkSize) !== chunk) continue; // expired while this pass yielded
      for (let at = 0; at < tokens.chunkSize; at++) {
        if (chunk.exp[at] === 0) continue;
        if (!affected || affected.some((a) => a(chunk, at))) judge(chunk, at, memo);
      }
      if (performance.now() - sliceStart > SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        await between();
        sliceStart = performance.now();
      }
    }
  };
  const targeted = async (): Promise<void> => {
    while (targets.length) {
      const only = targets;
      targets = [];
      await sweep(only, () => Promise.resolve());
    }
  };

  const pass = async (): Promise<void> => {
    while (all || targets.length) {
      await targeted();
      if (!all) continue;
      all = false;
      // A revocation arriving meanwhile is judged at the next slice, not after the whole pass.
      await sweep(undefined, targeted);
    }
  };

  const start = (): void => {
    running ??= pass().finally(() => {
      running = undefined;
      if (all || targets.length) start();
    });
  };

  return {
    judge: (chunk, at) => judge(chunk, at),
    changed(changes) {
      for (const change of changes) {
        const affected = affectedBy(change);
        if (affected === 'all') all = true;
        else if (affected) targets.push(affected);
      }
      if (all || targets.length) start();
    },
    judgeAll() {
      all = true;
      start();
    },
    async settled() {
      while (running) await running;
    },
  };
}
