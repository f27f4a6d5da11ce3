// Issuance with 50 Cedar policies against issuance with none (issue 24: at most 10 % lost): two
// fixtures, identical but for the active policy set, one 1-worker server each, the same
// client_credentials load (the bot holds data-scientist: three scopes, three policy decisions
// per token). The 50 policies are the kinds the README describes (zones, working hours, labels,
// attributes, second factor, delegation) over the demo scopes; none refuses the bot, so both
// sides sign the same token.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { createFixture, type Fixture } from './govauth-fixture.ts';
import { govauthTokenRequest } from './issuance.ts';
import type { Child } from './processes.ts';
import type { Candidate } from './rounds.ts';

const SCOPES = ['ai.training.read', 'ai.training.analyze', 'ai.prediction.run', 'ai.predictions.execute', 'ai.usage.log.read', 'ai.deploy.manage'];

/** 49 forbids and permits of the README's kinds, plus the baseline permit: 50 policies. */
function fiftyPolicies(): Record<string, string> {
  const files: Record<string, string> = { 'baseline.cedar': '@id("baseline")\npermit(principal, action, resource);\n' };
  for (let i = 0; i < 49; i++) {
    const scope = SCOPES[i % SCOPES.length] ?? 'ai.deploy.manage';
    const id = `p${String(i).padStart(2, '0')}`;
    const kinds = [
      // Network zone (the bench client connects from 127.0.0.1, which is in "lab").
      `forbid(principal, action == Action::"${scope}", resource) unless { context.zones.contains("lab") || context.zones.contains("corp-${i}") };`,
      // Working hours, for agents only.
      `forbid(principal is Agent, action == Action::"${scope}", resource) when { context.hour < 6 || context.hour >= ${18 + (i % 4)} };`,
      // Labels and attributes.
      `forbid(principal is Client, action == Action::"${scope}", resource) when { context.scope.hasTag("classification") && context.scope.getTag("classification") == "restricted-${i}" && !(principal.hasTag("clearance")) };`,
      // Second factor for people.
      `forbid(principal is Person, action == Action::"${scope}", resource) when { context.scope.hasTag("classification") && context.scope.getTag("classification") == "pii" } unless { context.mfa && context has mfaAgeSeconds && context.mfaAgeSeconds <= ${300 + i} };`,
      // Delegation depth and binding.
      `forbid(principal, action == Action::"${scope}", resource) when { context.delegationDepth > ${1 + (i % 3)} || (context.binding == "none" && resource.hasTag("pop-${i}")) };`,
    ];
    files[`${id}.cedar`] = `@id("${id}")\n${kinds[i % kinds.length] ?? ''}\n`;
  }
  return files;
}

async function cli(fixture: Fixture, ...args: string[]): Promise<void> {
  const r = await runCli([...args, '--json'], fixture.env);
  if (r.code !== 0) throw new Error(r.stderr);
}

export async function policyCandidates(connections: number): Promise<{ candidates: Candidate[]; stop: () => Promise<void> }> {
  const [plain, governed] = await Promise.all([createFixture(), createFixture()]);
  const dir = mkdtempSync(join(tmpdir(), 'govauth-bench-policies-'));
  for (const [name, text] of Object.entries(fiftyPolicies())) writeFileSync(join(dir, name), text);
  await cli(governed, 'policy', 'zone', 'set', 'lab', '--cidrs', '127.0.0.0/8,::1/128');
  await cli(governed, 'resource', 'label', 'set', 'https://models.example', 'classification=internal');
  await cli(governed, 'scope', 'label', 'set', 'ai.training.read', 'classification=pii');
  await cli(governed, 'client', 'attr', 'set', governed.bot.client_id, 'team=ml', 'region=eu');
  await cli(governed, 'policy', 'apply', dir);
  const servers: Child[] = [await plain.start({ GOVAUTH_WORKERS: '1' }), await governed.start({ GOVAUTH_WORKERS: '1' })];
  const [a, b] = servers as [Child, Child];
  return {
    candidates: [
      { name: 'issuance, no policy set (reference), 1 worker', options: govauthTokenRequest(a.url, plain.bot, connections), rssMb: a.rssPeakMb },
      { name: 'issuance, 50 Cedar policies, 1 worker', options: govauthTokenRequest(b.url, governed.bot, connections), rssMb: b.rssPeakMb },
    ],
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
      await Promise.all([plain.drop(), governed.drop()]);
    },
  };
}
