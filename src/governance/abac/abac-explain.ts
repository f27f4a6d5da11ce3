// `govauth policy explain` and its admin API twin: the decision for one principal, resource and
// scope in a given context, the policies that determined it, and what would change it (the same
// request judged again with one context fact varied: hour, weekday, network zone, second factor,
// binding, delegation). Reads the stored state, so it answers the same on every instance.
import { resolveSubject } from '../../db/abac-repository.ts';
import type { Database } from '../../db/database.ts';
import { AppError } from '../../errors/app-error.ts';
import { loadPolicySnapshot, loadUser } from '../policy-loader.ts';
import type { ClientDef, PolicySnapshot } from '../policy-model.ts';
import type { TokenBinding } from '../proof-of-possession.ts';
import { createScopeJudge, type AbacFacts, type AbacPrincipal, type ScopeVerdict } from './abac-decision.ts';
import type { AbacData } from './abac-model.ts';
import { loadAbacData, parseSources } from './abac-store.ts';
import { findPolicySet, recentActivations } from '../../db/abac-repository.ts';
import { compilePolicySet } from './cedar-policy-set.ts';

export interface ExplainRequest {
  /** A person's email, or a client id (exactly one). */
  readonly user?: string | undefined;
  readonly client?: string | undefined;
  /** For a person: the app they would use (default: none registered, an anonymous one). */
  readonly via?: string | undefined;
  readonly resource: string;
  readonly scope: string;
  /** Epoch ms (default now). */
  readonly at: number;
  readonly ip?: string | undefined;
  readonly mfa?: boolean | undefined;
  /** Seconds since the second factor (with mfa; default 0). */
  readonly mfaAge?: number | undefined;
  readonly binding?: TokenBinding | undefined;
  readonly delegationDepth?: number | undefined;
  /** A stored version instead of the active one. */
  readonly version?: number | undefined;
}

export interface Explanation {
  readonly principal: string;
  readonly resource: string;
  readonly scope: string;
  readonly version: number | null;
  /** Whether the roles grant the scope (the first half of the rule). */
  readonly roles: { readonly granted: boolean; readonly through: string[] };
  readonly policy: ScopeVerdict | null;
  readonly decision: 'permit' | 'deny';
  readonly context: Record<string, unknown>;
  /** One line per varied fact that flips the decision. */
  readonly wouldChange: string[];
}

const ANONYMOUS_APP = (id: string): ClientDef => ({ id, name: id, secretHash: null, secretExpiresAt: null, previousSecretHash: null, previousSecretValidUntil: null, grantTypes: [], redirectUris: [], postLogoutRedirectUris: [], scopeCeiling: null, introspectAudience: null, adminAccess: false, disabled: false, roles: [] });

const WEEKDAYS = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** Hours (0-23) as ranges: [8,9,10,17] → "08-10, 17". */
function ranges(values: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < values.length; i++) {
    const start = values[i] ?? 0;
    let end = start;
    while (values[i + 1] === end + 1) end = values[++i] ?? end;
    const pad = (n: number) => String(n).padStart(2, '0');
    out.push(start === end ? `${pad(start)}:00` : `${pad(start)}:00-${pad(end)}:59`);
  }
  return out.join(', ');
}

async function loadVersion(db: Database, version: number | undefined) {
  const wanted = version ?? (await recentActivations(db, 1))[0]?.version ?? null;
  if (wanted === null) return null;
  const row = await findPolicySet(db, wanted);
  if (!row) throw new AppError('not_found', `no policy set version ${wanted}`);
  return compilePolicySet(row.version, row.sha256, parseSources(row.sources));
}

export async function explainDecision(db: Database, req: ExplainRequest): Promise<Explanation> {
  if ((req.user === undefined) === (req.client === undefined)) throw new AppError('invalid_request', 'name exactly one principal: a person (user) or a client');
  const snapshot = await loadPolicySnapshot(db);
  const resource = snapshot.resources.get(req.resource);
  if (!resource) throw new AppError('not_found', `no resource ${JSON.stringify(req.resource.slice(0, 200))}`);
  if (!resource.scopes.has(req.scope)) throw new AppError('invalid_request', `the resource ${resource.audience} does not offer the scope ${JSON.stringify(req.scope.slice(0, 100))}`);
  let principal: AbacPrincipal;
  let label: string;
  if (req.client !== undefined) {
    const client = snapshot.clients.get(req.client);
    if (!client) throw new AppError('not_found', `no client ${JSON.stringify(req.client.slice(0, 200))}`);
    principal = { kind: 'client', client };
    label = `client ${client.id}`;
  } else {
    const id = await resolveSubject(db, 'person', req.user ?? '');
    const user = id === null ? undefined : await loadUser(db, id);
    if (!user) throw new AppError('not_found', `no person ${JSON.stringify((req.user ?? '').slice(0, 200))}`);
    const via = req.via === undefined ? ANONYMOUS_APP('(any app)') : snapshot.clients.get(req.via);
    if (!via) throw new AppError('not_found', `no client ${JSON.stringify((req.via ?? '').slice(0, 200))}`);
    principal = { kind: (req.delegationDepth ?? 0) > 0 ? 'agent' : 'person', user, client: via };
    label = `${principal.kind === 'agent' ? `agent ${via.id} acting for ` : ''}person ${user.email}`;
  }
  const grants = principal.kind === 'client' ? principal.client.roles : principal.user.roles;
  const through = grants.filter((g) => (g.expiresAt === null || g.expiresAt > req.at) && snapshot.roles.get(g.role)?.scopes.has(req.scope)).map((g) => g.role).sort();
  const roles = { granted: through.length > 0, through };

  const set = await loadVersion(db, req.version);
  const facts: AbacFacts = {
    at: req.at,
    sourceIp: req.ip,
    amr: req.mfa ? ['pwd', 'otp'] : principal.kind === 'client' ? [] : ['pwd'],
    authTime: req.mfa ? Math.floor(req.at / 1000) - (req.mfaAge ?? 0) : undefined,
    binding: req.binding ?? 'bearer',
    delegationDepth: req.delegationDepth ?? 0,
    grantType: principal.kind === 'client' ? 'client_credentials' : principal.kind === 'agent' ? 'urn:ietf:params:oauth:grant-type:token-exchange' : 'authorization_code',
  };
  const data = await loadAbacData(db);
  const at = new Date(req.at);
  const context = { hour: at.getUTCHours(), minute: at.getUTCMinutes(), weekday: at.getUTCDay() || 7, sourceIp: req.ip ?? null, amr: facts.amr, mfa: Boolean(req.mfa), binding: facts.binding === 'bearer' ? 'none' : facts.binding, delegationDepth: facts.delegationDepth };
  if (!set) return { principal: label, resource: resource.audience, scope: req.scope, version: null, roles, policy: null, decision: roles.granted ? 'permit' : 'deny', context, wouldChange: [] };
  const judge = createScopeJudge(set, snapshot.scopes, data);
  const verdict = judge.judge(principal, resource, req.scope, facts);
  return {
    principal: label,
    resource: resource.audience,
    scope: req.scope,
    version: set.version,
    roles,
    policy: verdict,
    decision: roles.granted && verdict.permitted ? 'permit' : 'deny',
    context,
    wouldChange: variations(snapshot, data, (f, p = principal) => judge.judge(p, resource, req.scope, f), facts, principal, verdict.permitted),
  };
}

/** The facts that, varied one at a time, flip the policy's answer. */
function variations(_snapshot: PolicySnapshot, data: AbacData, judge: (f: AbacFacts, p?: AbacPrincipal) => ScopeVerdict, facts: AbacFacts, principal: AbacPrincipal, permitted: boolean): string[] {
  const out: string[] = [];
  const flips = (f: AbacFacts, p?: AbacPrincipal): boolean => judge(f, p).permitted !== permitted;
  const verb = permitted ? 'denied' : 'permitted';
  // The week around the instant, hour by hour: the windows in which the answer differs.
  const day = new Date(facts.at);
  const weekday = day.getUTCDay() || 7;
  const monday = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()) - (weekday - 1) * 86_400_000;
  const byDay = new Map<string, number[]>();
  for (let d = 1; d <= 7; d++) {
    const hours = [...Array(24).keys()].filter((h) => flips({ ...facts, at: monday + (d - 1) * 86_400_000 + h * 3_600_000 + day.getUTCMinutes() * 60_000 }));
    if (!hours.length) continue;
    const key = ranges(hours);
    byDay.set(key, [...(byDay.get(key) ?? []), d]);
  }
  for (const [hours, days] of byDay) out.push(`${verb} on ${days.map((d) => WEEKDAYS[d]?.slice(0, 3)).join(', ')} at ${hours} UTC (same network, factor and binding)`);
  for (const zone of data.zones) {
    const cidr = zone.cidrs[0];
    if (!cidr) continue;
    const ip = cidr.split('/')[0];
    if (ip !== facts.sourceIp && flips({ ...facts, sourceIp: ip })) out.push(`${verb} from network zone ${zone.name} (e.g. ${ip})`);
  }
  if (facts.sourceIp !== undefined && flips({ ...facts, sourceIp: undefined })) out.push(`${verb} with no known source address`);
  const mfa = facts.amr.includes('otp');
  if (principal.kind !== 'client') {
    const toggled: AbacFacts = mfa ? { ...facts, amr: ['pwd'], authTime: undefined } : { ...facts, amr: ['pwd', 'otp'], authTime: Math.floor(facts.at / 1000) };
    if (flips(toggled)) out.push(`${verb} ${mfa ? 'without' : 'with'} a fresh second factor (mfa)`);
    if (mfa && flips({ ...facts, authTime: Math.floor(facts.at / 1000) - 3600 })) out.push(`${verb} when the second factor is an hour old`);
  }
  for (const binding of ['bearer', 'dpop', 'mtls'] as const) {
    if (binding !== facts.binding && flips({ ...facts, binding })) out.push(`${verb} with a ${binding === 'bearer' ? 'bearer (unbound)' : binding === 'dpop' ? 'DPoP-bound' : 'certificate-bound'} token`);
  }
  if (principal.kind !== 'client') {
    const depth = facts.delegationDepth > 0 ? 0 : 1;
    const p: AbacPrincipal = { kind: depth ? 'agent' : 'person', user: principal.user, client: principal.client };
    if (flips({ ...facts, delegationDepth: depth }, p)) out.push(`${verb} ${depth ? 'when an agent acts for the person (delegation depth 1)' : 'for the person themselves (no delegation)'}`);
  }
  return out;
}
