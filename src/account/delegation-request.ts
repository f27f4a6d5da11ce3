// What a delegation consent request says, read strictly at the edge: the link an agent or app
// sends a person to (GET /account/delegations/new?client_id=…&resource=…&scope=…&expires_in=…)
// and the form that page posts back. One value per field, names checked with the governance
// rules (validation.ts); anything else is a 400 with a sentence saying what is wrong.
import { AppError } from '../errors/app-error.ts';
import { MAX_STANDING_DELEGATION_SECONDS } from '../governance/delegation.ts';
import { checkAudience, checkScopeName, uniqueList } from '../governance/validation.ts';

export interface DelegationRequest {
  readonly clientId: string;
  readonly audience: string;
  readonly scopes: readonly string[];
}

type Fields = Readonly<Record<string, string | string[] | undefined>>;

/** client_ids are `cl_` + base64url (client-secrets.ts); this admits those and nothing odd. */
const CLIENT_ID = /^[A-Za-z0-9._~:-]{1,128}$/;
const MAX_SCOPES = 50;

const bad = (message: string): AppError => new AppError('invalid_request', message);

function one(fields: Fields, name: string, missing: string): string {
  const v = fields[name];
  if (Array.isArray(v)) throw bad(`${name} was given more than once.`);
  if (v === undefined || v === '') throw bad(missing);
  return v;
}

function readRequest(fields: Fields): DelegationRequest {
  const clientId = one(fields, 'client_id', 'The request does not say which agent to allow: client_id is missing.');
  if (!CLIENT_ID.test(clientId)) throw bad('client_id is not a valid client identifier.');
  const audience = checkAudience(one(fields, 'resource', 'The request does not say on which resource: resource is missing.'));
  const scopes = uniqueList(one(fields, 'scope', 'The request names no permission: scope is missing.').split(' '), checkScopeName);
  if (!scopes.length) throw bad('The request names no permission: scope is empty.');
  if (scopes.length > MAX_SCOPES) throw bad(`A delegation can name at most ${MAX_SCOPES} permissions.`);
  return { clientId, audience, scopes: scopes.sort() };
}

/** The consent page's link: the request and how long it should last (seconds; null: until withdrawn). */
export function readDelegationQuery(query: Fields): DelegationRequest & { expiresIn: number | null } {
  const request = readRequest(query);
  const raw = query.expires_in;
  if (raw === undefined) return { ...request, expiresIn: null };
  const seconds = typeof raw === 'string' && /^\d{1,10}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(seconds >= 1 && seconds <= MAX_STANDING_DELEGATION_SECONDS)) {
    throw bad(`expires_in must be a whole number of seconds from 1 to ${MAX_STANDING_DELEGATION_SECONDS} (${MAX_STANDING_DELEGATION_SECONDS / 86_400} days).`);
  }
  return { ...request, expiresIn: seconds };
}

/**
 * The consent page's form: the answer, and for Allow the request as shown with its end (epoch
 * ms; empty: until withdrawn). Deny needs nothing else: it changes nothing.
 */
export function readDelegationForm(form: Fields): { allow: false } | (DelegationRequest & { allow: true; expiresAt: number | null }) {
  const decision = one(form, 'decision', 'Choose Allow or Deny.');
  if (decision === 'deny') return { allow: false };
  if (decision !== 'allow') throw bad('Choose Allow or Deny.');
  const request = readRequest(form);
  const raw = form.expires_at;
  if (Array.isArray(raw)) throw bad('expires_at was given more than once.');
  if (raw !== undefined && raw !== '' && !/^\d{1,15}$/.test(raw)) throw bad('expires_at is not a valid time.');
  return { ...request, allow: true, expiresAt: raw === undefined || raw === '' ? null : Number(raw) };
}
