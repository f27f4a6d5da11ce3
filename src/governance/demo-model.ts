// The example AI governance model (`govauth init --demo`): one model API and four roles with
// least-privilege scope sets. Seeding is idempotent: what exists is left as it is.
import type { Actor } from '../audit/audit-chain.ts';
import type { Database } from '../db/database.ts';
import { isUniqueViolation } from '../db/catalog-repository.ts';
import { createResource, createRole, createScope } from './catalog.ts';
import { AppError } from '../errors/app-error.ts';
import type { Sensitivity } from './policy-model.ts';

export const DEMO_RESOURCE = 'https://models.example';

const DEMO_SCOPES: readonly { name: string; description: string; sensitivity: Sensitivity; maxTtl?: number }[] = [
  { name: 'ai.training.read', description: 'Read training datasets and training-run metadata', sensitivity: 'medium' },
  { name: 'ai.training.analyze', description: 'Run analyses and evaluations over training data', sensitivity: 'medium' },
  { name: 'ai.prediction.run', description: 'Run interactive predictions against deployed models', sensitivity: 'low' },
  { name: 'ai.predictions.execute', description: 'Execute batch prediction jobs against deployed models', sensitivity: 'medium' },
  { name: 'ai.usage.log.read', description: 'Read model usage and decision logs', sensitivity: 'medium' },
  // Changes what runs in production: short-lived tokens and step-up for people.
  { name: 'ai.deploy.manage', description: 'Deploy, roll back and retire models in production', sensitivity: 'high', maxTtl: 300 },
];

const DEMO_ROLES: readonly { name: string; description: string; scopes: readonly string[] }[] = [
  { name: 'admin', description: 'Runs the AI platform: every model operation, including deployment', scopes: DEMO_SCOPES.map((s) => s.name) },
  {
    name: 'data-scientist',
    description: 'Builds and evaluates models: reads and analyses training data, runs predictions',
    scopes: ['ai.training.read', 'ai.training.analyze', 'ai.prediction.run'],
  },
  { name: 'end-user', description: 'Uses deployed models through applications', scopes: ['ai.prediction.run'] },
  { name: 'auditor', description: 'Reviews how models are used; read-only access to usage logs', scopes: ['ai.usage.log.read'] },
];

export interface SeedReport {
  created: string[];
  existing: string[];
}

async function ensure(report: SeedReport, label: string, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
    report.created.push(label);
  } catch (err) {
    if ((err instanceof AppError && err.code === 'conflict') || isUniqueViolation(err)) report.existing.push(label);
    else throw err;
  }
}

export async function seedDemoModel(db: Database, by: Actor): Promise<SeedReport> {
  const report: SeedReport = { created: [], existing: [] };
  for (const s of DEMO_SCOPES) await ensure(report, `scope ${s.name}`, () => createScope(db, s, by));
  await ensure(report, `resource ${DEMO_RESOURCE}`, () =>
    createResource(db, { audience: DEMO_RESOURCE, name: 'Example model API', scopes: DEMO_SCOPES.map((s) => s.name) }, by),
  );
  for (const r of DEMO_ROLES) await ensure(report, `role ${r.name}`, () => createRole(db, r, by));
  return report;
}
