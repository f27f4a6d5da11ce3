// Authors a migration for both providers from the change to prisma/models.prisma since the
// last commit: renders both schemas, then asks Prisma for the SQL that turns the committed
// schema into the new one (`prisma migrate diff`, which needs no database; `migrate dev`
// does not work with the JS schema engine). The JS engine connects even to diff two schemas,
// so PostgreSQL authoring needs a reachable server (GOVAUTH_AUTHORING_PG_URL, default local).
// Usage: npm run db:migration -- <name>
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROVIDERS } from './db-schema.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: npm run db:migration -- <name in snake_case>');
  process.exit(2);
}
execFileSync(process.execPath, [join(root, 'scripts/db-schema.ts')], { stdio: 'inherit' });
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const tmp = mkdtempSync(join(tmpdir(), 'govauth-migration-'));

for (const provider of PROVIDERS) {
  const schema = `prisma/${provider}/schema.prisma`;
  let from = ['--from-empty'];
  try {
    const previous = execFileSync('git', ['show', `HEAD:${schema}`], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const file = join(tmp, `${provider}.prisma`);
    writeFileSync(file, previous);
    if (existsSync(join(root, `prisma/${provider}/migrations`))) from = ['--from-schema-datamodel', file];
  } catch {
    // not committed yet: diff from empty
  }
  const sql = execFileSync(
    join(root, 'node_modules/.bin/prisma'),
    ['migrate', 'diff', ...from, '--to-schema-datamodel', schema, '--script'],
    {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, PRISMA_PROVIDER: provider, DATABASE_URL: provider === 'sqlite' ? 'file:./unused.db' : (process.env.GOVAUTH_AUTHORING_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres') },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  if (!/\S/.test(sql.replace(/^--.*$/gm, ''))) {
    console.log(`${provider}: no changes`);
    continue;
  }
  const dir = join(root, `prisma/${provider}/migrations/${stamp}_${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'migration.sql'), sql);
  console.log(`${provider}: wrote ${dir}/migration.sql`);
}
