// Cedar policy sets for tests: files written to a temporary folder, applied and activated through
// the CLI (`govauth policy apply|activate`) as an operator would, then read by this server at once
// (its change feed, without waiting for the poll).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestServer } from './test-server.ts';

/** A folder holding `files` (name → Cedar text), for `govauth policy apply <dir>`. */
export function policyDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'govauth-policies-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Applies (and activates) a policy set; returns its version once this server uses it. */
export async function applyPolicies(t: TestServer, files: Record<string, string>): Promise<number> {
  const { version } = await t.cliJson<{ version: number }>('policy', 'apply', policyDir(files));
  await t.server.policy.sync();
  return version;
}

/** Activates a stored version (a rollback, say) and waits until this server uses it. */
export async function activatePolicy(t: TestServer, version: number | string): Promise<void> {
  await t.cliJson('policy', 'activate', String(version));
  await t.server.policy.sync();
}
