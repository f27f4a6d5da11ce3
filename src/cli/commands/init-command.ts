// govauth init [--demo]: prepare the database (migrations) and optionally seed the example model.
import { DEMO_RESOURCE, seedDemoModel } from '../../governance/demo-model.ts';
import { ensureAdminModel } from '../../governance/admin-model.ts';
import { flag, type Command } from '../command.ts';

export const initCommands: Command[] = [
  {
    name: 'init',
    usage: 'govauth init [--demo]',
    summary: 'create the database schema; --demo also seeds the example AI governance model',
    options: { demo: { type: 'boolean' } },
    positionals: [],
    createsDatabase: true,
    async run({ values }, ctx) {
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
