// An access token's facts from its audit record (src/oidc/token-audit.ts writes them from what
// minted the token: jti, sub, client_id, aud, scopes, roles, grant_id, act/delegations, iat,
// lifetime, source_iat, the status claim's list and index: status_list, status_idx, and the
// context the policy step judges it in: amr, auth_time, binding, ciba_request, and an exchanged
// token's exchanged_from).
// Records written before amr and auth_time were recorded judge their tokens without them, until
// those tokens expire (a policy conditioned on amr sees none: it can only refuse more).
// Records written before the status list existed carry neither and are skipped: their tokens have
// no status claim.
// Records of exchanged tokens written before exchanged_from was recorded name only
// subject_token_jti: their tokens are judged as they were then, without the tokens they were
// exchanged from, until they expire (never later than the token they were exchanged from). So
// for those few minutes after an upgrade, revoking a source token alone leaves such a token's bit
// valid while introspection says inactive; revoking its grant, person or agent still ends both.
import { exchangedFromOf } from '../governance/act-claim.ts';
import type { ChainHop } from '../governance/delegation.ts';
import type { TokenBinding } from '../governance/proof-of-possession.ts';
import { issuanceContextOf } from '../introspection/token-liveness.ts';
import type { MintedToken } from './live-tokens.ts';

/** The audit actions that record a minted access token. */
export const MINTED_TOKEN_ACTIONS = ['token.issued', 'token.refreshed', 'token.exchanged'] as const;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);
const strings = (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((s) => typeof s === 'string') ? v : undefined);

const bindingOf = (v: unknown): TokenBinding => (v === 'dpop' || v === 'mtls' ? v : 'bearer');

function chainOf(act: unknown, delegations: unknown): ChainHop[] | undefined | false {
  if (act === undefined) return undefined;
  const actors = strings(act);
  const ids = strings(delegations);
  if (!actors || !ids || actors.length !== ids.length) return false;
  return actors.map((actor, i) => ({ actor, delegationId: ids[i] ?? '' }));
}

/**
 * The jtis an exchanged token was exchanged from: the record names them as its exchanged_from
 * claim does, so they are read by the claim's own rule (act-claim.ts: only beside a chain, one to
 * MAX_EXCHANGES of them). Undefined: an older record that does not name them.
 */
function exchangedFromOfRecord(detail: Record<string, unknown>): readonly string[] | undefined | false {
  if (detail.exchanged_from === undefined) return undefined;
  return exchangedFromOf(detail) ?? false;
}

/**
 * The token a record's detail describes, or undefined (no status claim, or not well formed).
 * Its index in the table of live tokens is global: list · listSize + its index in the list.
 */
export function mintedTokenOf(detail: Record<string, unknown>, listSize: number): MintedToken | undefined {
  const list = int(detail.status_list);
  const inList = int(detail.status_idx);
  const idx = list === undefined || inList === undefined || inList >= listSize ? undefined : list * listSize + inList;
  const jti = str(detail.jti);
  const sub = str(detail.sub);
  const clientId = str(detail.client_id);
  const audience = str(detail.aud);
  const iat = int(detail.iat);
  const lifetime = int(detail.lifetime);
  const scopes = strings(detail.scopes);
  const roles = strings(detail.roles) ?? [];
  const chain = chainOf(detail.act, detail.delegations);
  const exchangedFrom = exchangedFromOfRecord(detail);
  if (idx === undefined || !jti || !sub || !clientId || !audience || !iat || lifetime === undefined || !scopes || chain === false || exchangedFrom === false) return undefined;
  return {
    idx,
    jti,
    iat,
    exp: iat + lifetime,
    sourceIat: int(detail.source_iat) || undefined,
    grantId: str(detail.grant_id),
    sub,
    clientId,
    audience,
    scopes,
    roles,
    chain,
    exchangedFrom,
    // A CIBA approval is never exchanged further (act-claim.ts approvalOf: no delegations).
    context: issuanceContextOf(detail, bindingOf(detail.binding), chain === undefined ? str(detail.ciba_request) : undefined),
  };
}

/** Parses a stored detail (canonical JSON) into the token it describes, if any. */
export function mintedTokenFromRecord(detail: string, listSize: number): MintedToken | undefined {
  try {
    const parsed: unknown = JSON.parse(detail);
    return parsed && typeof parsed === 'object' ? mintedTokenOf(parsed as Record<string, unknown>, listSize) : undefined;
  } catch {
    return undefined;
  }
}
