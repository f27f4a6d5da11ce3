// README and .env.example must stay true: every variable the server reads is documented in both.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const read = (path: string): string => readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)), 'utf8');

describe('documentation', () => {
  // loadConfig reads each concern's variables in its own file in src/config/.
  const source = readdirSync(fileURLToPath(new URL('../../src/config/', import.meta.url))).filter((f) => f.endsWith('.ts')).map((f) => read(`src/config/${f}`)).join('\n');
  const variables = [...source.matchAll(/read(?:<[^>]+>)?\('([A-Z_]+)'/g)].map((m) => m[1]);

  it('finds the configuration variables', () => {
    expect(variables).toEqual(expect.arrayContaining(['DATABASE_URL', 'GOVAUTH_ISSUER', 'GOVAUTH_MASTER_KEY']));
  });

  it('documents every variable in .env.example and the README', () => {
    const example = read('.env.example');
    const readme = read('README.md');
    for (const v of variables) {
      expect(example, v).toMatch(new RegExp(`^${v}=`, 'm'));
      expect(readme, v).toContain(`\`${v}\``);
    }
  });

  it('starts the server with the V8 settings and environment the cluster gives its workers', async () => {
    const { COMPILE_CACHE_DIR, SERVER_ENV, SERVER_V8_FLAGS } = await import('../../src/runtime-flags.ts');
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    // npm runs scripts in the project root, so the start script names the cache relative to it.
    const asStarted = { ...SERVER_ENV, NODE_COMPILE_CACHE: COMPILE_CACHE_DIR };
    const env = Object.entries(asStarted).map(([k, v]) => `${k}=${v} `).join('');
    expect(pkg.scripts.start).toBe(`${env}node ${SERVER_V8_FLAGS.join(' ')} src/main.ts`);
    // The CLI entry is plain JavaScript (importing runtime-flags.ts would load the type stripper
    // the cache avoids), so it spells the directory out: it must be the same one.
    expect(read('bin/govauth.js')).toContain(`'../${COMPILE_CACHE_DIR}'`);
  });

  it('shows exactly the quick-start and test commands', () => {
    const readme = read('README.md');
    expect(readme).toContain('```sh\nnpm install\nnpm start\n```');
    expect(readme).toContain('```sh\nnpm test\n```');
  });
});

describe('licence and history', () => {
  it('declares the licence its LICENSE file holds, and keeps a changelog in Keep a Changelog form', () => {
    const pkg = JSON.parse(read('package.json')) as { license?: string };
    expect(pkg.license).toBe('Apache-2.0');
    const licence = read('LICENSE');
    expect(licence).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(licence).toContain('END OF TERMS AND CONDITIONS');
    const changelog = read('CHANGELOG.md');
    expect(changelog).toMatch(/^# Changelog\n/);
    expect(changelog).toContain('[Keep a Changelog 1.1.0](https://keepachangelog.com/en/1.1.0/)');
    expect(changelog).toMatch(/^## \[Unreleased\]$/m);
    for (const section of changelog.matchAll(/^### (.+)$/gm)) expect(['Added', 'Changed', 'Deprecated', 'Removed', 'Fixed', 'Security']).toContain(section[1]);
  });
});
