// govauth init [--demo]: prepare the database (migrations) and optionally seed the example model.
import { flag, type Command } from '../command.ts';

// Loaded when a command runs, not with the command list (src/cli/main.ts).
const demoModel = () => import('../../governance/demo-model.ts');
const adminModel = () => import('../../governance/admin-model.ts');

export const initCommands: Command[] = [
  {
    name: 'init',
    usage: 'govauth init [--demo]',
    summary: 'create the database schema; --demo also seeds the example AI governance model',
    options: { demo: { type: 'boolean' } },
    positionals: [],
    createsDatabase: true,
    async run({ values }, ctx) {
      const [{ DEMO_RESOURCE, seedDemoModel }, { ensureAdminModel }] = await Promise.all([demoModel(), adminModel()]);
      const db = await ctx.db(); // migrates
      await ensureAdminModel(db, ctx.actor);
      if (!flag(values, 'demo')) return { json: { initialized: true }, text: 'database ready' };
      const report = await seedDemoModel(db, ctx.actor);
      const lines = [
        ...report.created.map((x) => `created  ${x}`),
        ...report.existing.map((x) => `exists   ${x}`),
        '',
        `Next: npx govauth client create --name demo-bot --grant client_credentials --roles data-scientist --json`,
        `then: curl -u <client_id>:<client_secret> -d grant_type=client_credentials -d resource=${DEMO_RESOURCE} <issuer>/token`,
      ];
      return { json: { initialized: true, demo: true, created: report.created, existing: report.existing }, text: lines.join('\n') };
    },
  },
];
