// Client authentication for govauth's own endpoints (introspection, revocation), with the same
// rules as the token endpoint: client_secret_basic or client_secret_post (RFC 6749 §2.3.1),
// or private_key_jwt (RFC 7523 §2.2, client-assertion.ts), never two at once, secrets checked
// against their argon2id hashes through the verified-secret cache, failures limited per source
// address (client-auth-failures.ts).
import type { Context } from 'koa';
import { AppError, CLIENT_AUTH_CHALLENGE } from '../errors/app-error.ts';
import { clientSecretsOf, type SecretVerifier } from '../governance/client-secrets.ts';
import { clientAuthMethod } from '../governance/client-auth-method.ts';
import type { ClientDef } from '../governance/policy-model.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import { ClientAuthThrottled } from '../ratelimit/client-auth-failures.ts';
import { assertionSubject, clientAssertionProblem, JWT_BEARER_ASSERTION, type ClientAssertionDeps } from './client-assertion.ts';

export interface ClientAuthDeps {
  readonly policy: PolicyStore;
  readonly verifier: SecretVerifier;
  readonly now: () => number;
  /** private_key_jwt; without it, only secrets (and public clients) are accepted. */
  readonly assertions?: ClientAssertionDeps | undefined;
}

/** invalid_client with its challenge (RFC 6749 §5.2), for the caller to throw. */
export function unauthorized(ctx: Context, message: string): AppError {
  ctx.set('WWW-Authenticate', CLIENT_AUTH_CHALLENGE);
  return new AppError('invalid_client', message);
}

function parseBasic(header: string): { id: string; secret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header.trim());
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return undefined;
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, '%20')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, '%20')) };
  } catch {
    return undefined;
  }
}

/**
 * The calling client. `allowPublic`: a public client may identify itself by client_id alone
 * (RFC 7009 §2.1 lets public clients revoke their own tokens).
 */
export async function authenticateClient(ctx: Context, form: Record<string, string>, deps: ClientAuthDeps, options: { allowPublic: boolean }): Promise<ClientDef> {
  try {
    const client = await authenticate(ctx, form, deps, options);
    ctx.state.clientId = client.id; // for the access log (http/access-log.ts)
    return client;
  } catch (err) {
    if (!(err instanceof ClientAuthThrottled)) throw err;
    ctx.set('Retry-After', String(err.retryAfterSeconds));
    throw new AppError('slow_down', err.message);
  }
}

async function authenticateWithAssertion(ctx: Context, form: Record<string, string>, deps: ClientAuthDeps): Promise<ClientDef> {
  if (!deps.assertions) throw unauthorized(ctx, 'client assertions are not accepted here');
  const assertion = form.client_assertion;
  if (form.client_assertion_type !== JWT_BEARER_ASSERTION) throw new AppError('invalid_request', `client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
  if (!assertion || assertion.length > 8192) throw new AppError('invalid_request', 'client_assertion is missing or too long');
  const id = assertionSubject(assertion);
  if (id !== undefined && form.client_id !== undefined && form.client_id !== id) throw new AppError('invalid_request', 'client_id mismatch');
  const client = id === undefined ? undefined : deps.policy.snapshot().clients.get(id);
  const problem = !client || client.disabled ? 'client authentication failed' : await clientAssertionProblem(assertion, client, `${deps.assertions.issuer}${ctx.path}`, deps.assertions);
  if (problem || !client) {
    await deps.assertions.failures.spend(ctx.ip); // a refusal counts as a wrong secret does (throws when over budget)
    throw unauthorized(ctx, problem ?? 'client authentication failed');
  }
  return client;
}

async function authenticate(ctx: Context, form: Record<string, string>, deps: ClientAuthDeps, options: { allowPublic: boolean }): Promise<ClientDef> {
  const header = ctx.get('authorization');
  const inBody = form.client_secret !== undefined;
  const assertion = form.client_assertion !== undefined || form.client_assertion_type !== undefined;
  if ([Boolean(header), inBody, assertion].filter(Boolean).length > 1) throw new AppError('invalid_request', 'client authentication must only be provided using one mechanism');
  if (assertion) return authenticateWithAssertion(ctx, form, deps);
  let id: string | undefined;
  let secret: string | undefined;
  if (header) {
    const basic = parseBasic(header);
    if (!basic) throw unauthorized(ctx, 'malformed Authorization header (expected Basic client credentials)');
    ({ id, secret } = basic);
    if (form.client_id !== undefined && form.client_id !== id) throw new AppError('invalid_request', 'client_id mismatch');
  } else {
    id = form.client_id;
    secret = form.client_secret;
  }
  if (!id) throw unauthorized(ctx, 'client authentication is required');
  const client = deps.policy.snapshot().clients.get(id);
  if (!client || client.disabled) {
    // As slow as a wrong secret, so timing does not tell which client_ids exist.
    if (secret) await deps.verifier.reject(undefined, ctx.ip);
    throw unauthorized(ctx, 'client authentication failed');
  }
  // A private_key_jwt or mutual TLS client has no secret but is not public: only its own proof identifies it.
  if (client.jwks) throw unauthorized(ctx, `this client authenticates with ${clientAuthMethod(client)}${client.tlsSelfSigned === true ? ' at the token endpoint' : ' (client_assertion)'}`);
  const secrets = clientSecretsOf(client);
  if (!secrets) {
    if (secret !== undefined || !options.allowPublic) throw unauthorized(ctx, 'client authentication failed');
    return client;
  }
  // The same verifier as the token endpoint (oidc/create-provider.ts): an expired secret, or the
  // previous one after its grace, fails as a wrong one does.
  if (!secret || !(await deps.verifier.verify(client.id, secrets, secret, deps.now(), ctx.ip))) throw unauthorized(ctx, 'client authentication failed');
  return client;
}
