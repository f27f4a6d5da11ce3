// The real server, a handful of random policies (fixed seed): a client_credentials token is
// issued exactly as the governance core decides (scopes, roles, lifetime, or the refusal), its
// introspection is active with the same scopes and roles, and after a role is taken away it is
// active exactly when re-issuing what it carries would grant all of it
// (test/unit/effective-grant.property.test.ts states the same over many more policies).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { effectiveGrant } from '../../src/governance/effective-grant.ts';
import { decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t?.stop());

const policyArb = fc.record({
  maxTtls: fc.tuple(fc.option(fc.integer({ min: 60, max: 600 })), fc.option(fc.integer({ min: 60, max: 600 })), fc.option(fc.integer({ min: 60, max: 600 }))),
  tokenTtl: fc.option(fc.integer({ min: 120, max: 900 })),
  resourceScopes: fc.subarray([0, 1, 2], { minLength: 1 }),
  roleScopes: fc.tuple(fc.subarray([0, 1, 2], { minLength: 1 }), fc.subarray([0, 1, 2], { minLength: 1 })),
  clientRoles: fc.subarray([0, 1], { minLength: 1 }),
  requested: fc.option(fc.subarray([0, 1, 2], { minLength: 1 }), { nil: undefined }),
  dropRole: fc.integer({ min: 0, max: 1 }),
});

async function introspect(rs: ClientCreds, token: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${t.url}/token/introspection`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${rs.client_id}:${rs.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  return (await res.json()) as Record<string, unknown>;
}

describe('issuance and introspection agree on a real server', () => {
  it('for random policies', async () => {
    const policies = fc.sample(policyArb, { numRuns: 4, seed: 16 });
    const outcomes = { refused: 0, stillLive: 0, inactive: 0 };
    for (const [round, p] of policies.entries()) {
      const scope = (i: number): string => `r${round}.s${i}`;
      const role = (i: number): string => `r${round}-role${i}`;
      const audience = `https://r${round}.example`;
      for (const [i, maxTtl] of p.maxTtls.entries()) await t.cliJson('scope', 'create', scope(i), '--description', 'x', ...(maxTtl ? ['--max-ttl', String(maxTtl)] : []));
      await t.cliJson('resource', 'create', audience, '--name', `R${round}`, '--scopes', p.resourceScopes.map(scope).join(','), ...(p.tokenTtl ? ['--token-ttl', String(p.tokenTtl)] : []));
      for (const [i, scopes] of p.roleScopes.entries()) await t.cliJson('role', 'create', role(i), '--scopes', scopes.map(scope).join(','));
      const bot = await t.cliJson<ClientCreds>('client', 'create', '--name', `bot${round}`, '--grant', 'client_credentials', '--roles', p.clientRoles.map(role).join(','));
      const rs = await t.cliJson<ClientCreds>('client', 'create', '--name', `rs${round}`, '--resource', audience, '--introspect');
      await t.server.policy.sync();

      const requested = p.requested?.map(scope);
      const decide = () =>
        effectiveGrant(t.server.policy.snapshot(), t.server.policy.revocations, { accessTokenTtl: 300, defaultResource: undefined }, {
          principal: { kind: 'client' },
          client: t.server.policy.snapshot().clients.get(bot.client_id),
          audience,
          requested,
          now: Date.now(),
        });
      const expected = decide();
      const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: audience, ...(requested && { scope: requested.join(' ') }) }, { basic: bot });
      if (!expected.ok) {
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ error: expected.error, error_description: expected.description });
        outcomes.refused++;
        continue;
      }
      expect(res.status).toBe(200);
      const token = String(res.body.access_token);
      const claims = decodeJwt(token).payload;
      expect(String(claims.scope).split(' ').sort()).toEqual(expected.scopes);
      expect(claims.roles).toEqual(expected.roles);
      expect(Number(claims.exp) - Number(claims.iat)).toBe(expected.ttl);
      const live = await introspect(rs, token);
      expect(live).toMatchObject({ active: true, scope: claims.scope, roles: expected.roles });

      // Take one role away: live exactly when re-issuing what the token carries grants it all.
      await t.cliJson('client', 'revoke-role', bot.client_id, role(p.clientRoles[p.dropRole % p.clientRoles.length]!));
      await t.server.policy.sync();
      const carried = String(claims.scope).split(' ');
      const again = effectiveGrant(t.server.policy.snapshot(), t.server.policy.revocations, { accessTokenTtl: 300, defaultResource: undefined }, {
        principal: { kind: 'client' },
        client: t.server.policy.snapshot().clients.get(bot.client_id),
        audience,
        requested: carried,
        now: Date.now(),
      });
      const stillLive = again.ok && again.scopes.length === carried.length;
      expect((await introspect(rs, token)).active).toBe(stillLive);
      outcomes[stillLive ? 'stillLive' : 'inactive']++;
    }
    // The seed gives issued tokens that stay live and ones that turn inactive.
    expect(outcomes.stillLive).toBeGreaterThan(0);
    expect(outcomes.inactive).toBeGreaterThan(0);
  });
});
