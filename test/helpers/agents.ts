// Fixtures for token exchange (RFC 8693): agent clients and delegation policies.
import type { ClientCreds } from './oauth.ts';
import type { TestServer } from './test-server.ts';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/**
 * An agent client that may exchange tokens (and get its own client_credentials tokens).
 * `extra`: more `client create` options (e.g. `--scopes` for a scope ceiling).
 */
export function createAgent(t: TestServer, name: string, roles: string[], extra: string[] = []): Promise<ClientCreds> {
  return t.cliJson<ClientCreds>('client', 'create', '--name', name, '--grant', 'client_credentials', '--grant', 'token-exchange', '--roles', roles.join(','), ...extra);
}

/** Agents holding `agentRole` may act for people holding `forRole` on `resource` (`govauth delegation allow`); returns the policy id. */
export async function allowDelegation(t: TestServer, o: { agentRole: string; forRole: string; resource: string; scopes?: string[]; maxDepth?: number; maxTtl?: number }): Promise<string> {
  const r = await t.cliJson<{ policy: { id: string } }>(
    'delegation',
    'allow',
    '--agent-role',
    o.agentRole,
    '--for-role',
    o.forRole,
    '--resource',
    o.resource,
    ...(o.scopes ? ['--scopes', o.scopes.join(',')] : []),
    ...(o.maxDepth ? ['--max-depth', String(o.maxDepth)] : []),
    ...(o.maxTtl ? ['--max-ttl', String(o.maxTtl)] : []),
  );
  return r.policy.id;
}
