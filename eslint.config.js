// Lint that fails loudly: type-aware rules, and no floating promises (an unawaited write in an
// authorization server is a lost revocation or audit record).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';


// Layer direction (README "How it is built"). Leaves: config, errors, time, log. Then db (the
// only code that talks to a database); the domain (governance, audit, keys, ratelimit, notifications), free of
// HTTP and oidc-provider; the edge (oidc, interactions, account, admin, introspection, http, pages,
// metrics, tracing, statuslist); the composition roots (app, server, main, cluster, cli). Each block names
// what its folder may not import; a violation fails `npm run lint` and CI.
const DB_CLIENTS = ['@prisma/*', 'pg', 'pg/*', 'libsql', '@libsql/*', '**/db/generated/**'];
const OIDC_PROVIDER = ['oidc-provider', 'oidc-provider/*'];
const ROOTS = ['**/app.ts', '**/server.ts', '**/main.ts', '**/cluster.ts', '**/cli/**'];
const EDGE = ['**/oidc/**', '**/interactions/**', '**/account/**', '**/admin/**', '**/console/**', '**/introspection/**', '**/statuslist/**', '**/http/**', '**/pages/**', '**/metrics/**'];
const DOMAIN = ['**/governance/**', '**/audit/**', '**/keys/**', '**/ratelimit/**', '**/notifications/**'];
const forbid = (files, groups) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns: groups }] } });
const only = (group, message) => ({ group, message });
const noDbClient = only(DB_CLIENTS, 'Only src/db talks to the database: add or use a repository there.');
const noOidcProvider = only(OIDC_PROVIDER, 'Only src/oidc touches oidc-provider (seams.ts holds what goes beyond its public configuration).');
// A workspace package is published on its own: its source imports nothing of govauth's.
const standalone = only(['../../*', '../../**'], 'A package under packages/ stands alone: import only its own files and its dependencies.');
const layers = [
  forbid(['packages/*/src/**/*.ts'], [standalone, noDbClient, noOidcProvider]),
  forbid(['src/**/*.ts'], [noDbClient, noOidcProvider]),
  forbid(['src/db/**/*.ts'], [noOidcProvider, only([...DOMAIN, ...EDGE, ...ROOTS], 'src/db is the bottom layer: it imports only config, errors, time, log and tracing.')]),
  forbid(['src/oidc/**/*.ts'], [noDbClient, only(['**/interactions/**', '**/account/**', '**/admin/**', ...ROOTS], 'src/oidc is driven by the sign-in pages and the app, never the other way round: take what it needs as a dependency.')]),
  forbid(['src/pages/**/*.ts'], [noDbClient, noOidcProvider, only(['**/interactions/**', '**/account/**', '**/admin/**', ...ROOTS], 'src/pages renders pages for oidc, the sign-in routes and the account pages; it is driven by them.')]),
  forbid(['src/governance/**/*.ts', 'src/audit/**/*.ts', 'src/keys/**/*.ts', 'src/ratelimit/**/*.ts', 'src/notifications/**/*.ts'], [
    noDbClient,
    noOidcProvider,
    only(['koa', '@koa/*'], 'The domain layers are free of HTTP.'),
    only([...EDGE, ...ROOTS], 'The domain layers do not import the layers above them.'),
  ]),
  forbid(['src/config/**/*.ts', 'src/errors/**/*.ts', 'src/time/**/*.ts', 'src/log/**/*.ts'], [
    noDbClient,
    noOidcProvider,
    only(['**/db/**', ...DOMAIN, ...EDGE, ...ROOTS], 'A leaf module imports no other part of govauth.'),
  ]),
];

export default tseslint.config(
  // bench/peer holds peer servers with their own package.json and tsconfig (npx tsc -p bench/peer/<name>).
  { ignores: ['node_modules/**', 'src/db/generated/**', 'data/**', 'coverage/**', 'test-results/**', 'bench/peer/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/only-throw-error': 'off',
      'no-console': 'off',
    },
  },
  ...layers,
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
  },
);
