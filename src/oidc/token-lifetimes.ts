// Lifetimes of everything oidc-provider issues (docs § ttl). Access tokens follow governance:
// the smallest of the resource's TTL and the carried scopes' max TTLs, never beyond the role
// grants they depend on. A sign-in has an absolute end (GOVAUTH_SESSION_MAX_AGE): the browser
// session, the grant and the refresh-token chain all stop there; each refresh token lives
// GOVAUTH_REFRESH_TOKEN_TTL at most (an idle timeout, since every use rotates it).
// Both read the request's decision (ctx.state.decision, effective-grant.ts).
import type { Configuration } from 'oidc-provider';
import type { Config } from '../config/load-config.ts';
import { lifetimeFor } from '../governance/effective-grant.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import type { Clock } from '../time/clock.ts';
import { cibaRequestTtl } from './ciba.ts';

type Ttl = NonNullable<Configuration['ttl']>;

export function createTtl(deps: { config: Config; policy: PolicyStore; now: Clock }): Ttl {
  const { config, policy, now } = deps;
  const { refreshTokenTtl, sessionMaxAge } = config.signIn;
  const defaults = { accessTokenTtl: config.accessTokenTtl, defaultResource: config.defaultResource };
  const nowSec = (): number => Math.floor(now() / 1000);
  const atLeastOne = (n: number): number => Math.max(1, Math.floor(n));

  return {
    ClientCredentials: (ctx, token) => ctx.state.decision?.grant.ttl ?? token.resourceServer?.accessTokenTTL ?? config.accessTokenTtl,
    AccessToken(ctx, token) {
      // A person's token carries the scopes oidc-provider kept from the request (⊆ the grant).
      const decision = ctx.state.decision;
      if (!decision) return token.resourceServer?.accessTokenTTL ?? config.accessTokenTtl; // no resource: a sign-in only
      return lifetimeFor(policy.snapshot(), decision.grant, (token.scope ?? '').split(' ').filter(Boolean), defaults);
    },
    RefreshToken(_ctx, token) {
      // The chain ends with the sign-in (auth_time), not max-age after this authorization:
      // iiat alone let an app that re-authorized late in a session (consent only, no
      // password) hold a chain up to twice the max age (test/integration/token-lifetimes.test.ts).
      const issued = typeof token.iiat === 'number' ? token.iiat : nowSec();
      const started = typeof token.authTime === 'number' ? Math.min(issued, token.authTime) : issued;
      return atLeastOne(Math.min(refreshTokenTtl, sessionMaxAge - (nowSec() - started)));
    },
    Grant: sessionMaxAge,
    Session(_ctx, session) {
      const started = typeof session.iat === 'number' ? session.iat : nowSec();
      return atLeastOne(sessionMaxAge - (nowSec() - started));
    },
    AuthorizationCode: 60, // RFC 6749 §4.1.2 recommends at most ten minutes; a minute is plenty
    IdToken: 600,
    Interaction: 900, // time to finish signing in
    // How long an agent's CIBA request waits for the person (GOVAUTH_CIBA_REQUEST_TTL, ciba.ts).
    BackchannelAuthenticationRequest: cibaRequestTtl(config.ciba),
  };
}
