// The setting every access request suite starts from: a server with the demo model, a role whose
// holders approve requests (access-approver), and the people the suite names with their roles.
import { createUser } from './people.ts';
import { startTestServer, type TestServer, type TestServerOptions } from './test-server.ts';

export const APPROVER_ROLE = 'access-approver';

export async function startAccessRequestServer(people: Readonly<Record<string, readonly string[]>>, options: TestServerOptions = {}): Promise<TestServer> {
  const t = await startTestServer(options);
  await t.cliJson('init', '--demo');
  await t.cliJson('role', 'create', APPROVER_ROLE, '--scopes', 'ai.usage.log.read', '--description', 'Approves access requests');
  for (const [email, roles] of Object.entries(people)) await createUser(t, email, [...roles]);
  return t;
}
