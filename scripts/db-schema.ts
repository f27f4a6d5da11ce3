// Renders the two provider-specific Prisma schemas from prisma/models.prisma.
// Prisma allows one datasource provider per schema file, and SQLite (embedded default) and
// PostgreSQL (scale) need one each; the models stay in one file so they cannot drift.
// Usage: node scripts/db-schema.ts [--check]   (--check exits 1 if a rendered file is stale)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PROVIDERS = ['sqlite', 'postgresql'] as const;
export type Provider = (typeof PROVIDERS)[number];

const root = fileURLToPath(new URL('..', import.meta.url));

export function renderSchema(provider: Provider, models: string): string {
  return `// GENERATED from prisma/models.prisma by \`npm run db:schema\`: edit that file, not this one.

generator client {
  provider               = "prisma-client"
  output                 = "../../src/db/generated/${provider}"
  engineType             = "client"
  runtime                = "nodejs"
  moduleFormat           = "esm"
  generatedFileExtension = "ts"
  importFileExtension    = "ts"
}

datasource db {
  provider = "${provider}"
  url      = env("DATABASE_URL")
}

${models.trim()}
`;
}

function main(check: boolean): number {
  const models = readFileSync(`${root}prisma/models.prisma`, 'utf8');
  let stale = 0;
  for (const provider of PROVIDERS) {
    const path = `${root}prisma/${provider}/schema.prisma`;
    const want = renderSchema(provider, models);
    let have = '';
    try {
      have = readFileSync(path, 'utf8');
    } catch {
      // missing: stale
    }
    if (have === want) continue;
    stale++;
    if (check) console.error(`${path} is out of date: run npm run db:schema`);
    else writeFileSync(path, want);
  }
  return check && stale ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = main(process.argv.includes('--check'));
}
