// Fixtures for token exchange (RFC 8693): agent clients and delegation policies.
import type { ClientCreds } from './oauth.ts';
import type { TestServer } from './test-server.ts';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/**
 * An agent client that may exchange tokens (and get its own client_credentials tokens).
 * `extra`: more `client create` options (e.g. `--scopes` for a scope ceiling).
 */
export async function createAgent(t: TestServer, name: string, roles: string[], extra: string[] = []): Promise<ClientCreds> {
  const c = await t.cliJson<ClientCreds>('client', 'create', '--name', name, '--grant', 'client_credentials', '--roles', roles.join(','), ...extra);
  // TEMPORARY until the CLI grows --grant token-exchange.
  await t.server.db.prisma.client.update({ where: { id: c.client_id }, data: { grantTypes: JSON.stringify(['client_credentials', TOKEN_EXCHANGE]) } });
  await t.server.db.prisma.change.create({ data: { kind: 'client', key: c.client_id } });
  await t.server.policy.sync();
  return c;
}

let n = 0;
/** Agents holding `agentRole` may act for people holding `forRole` on `resource`. */
export async function allowDelegation(t: TestServer, o: { agentRole: string; forRole: string; resource: string; scopes?: string[]; maxDepth?: number; maxTtl?: number }): Promise<string> {
  const id = `dp_test${++n}${Date.now()}`;
  await t.server.db.prisma.delegationPolicy.create({
    data: { id, agentRole: o.agentRole, subjectRole: o.forRole, audience: o.resource, scopes: o.scopes ? JSON.stringify(o.scopes) : null, maxDepth: o.maxDepth ?? 2, maxTtl: o.maxTtl ?? null },
  });
  await t.server.db.prisma.change.create({ data: { kind: 'delegation', key: id } });
  await t.server.policy.sync();
  return id;
}
