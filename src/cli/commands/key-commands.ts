// govauth keys …: signing keys and their rotation.
import { loadConfig } from '../../config/load-config.ts';
import { int, UsageError, type Command } from '../command.ts';
import { table } from '../table.ts';

// Loaded when a command runs, not with the command list (src/cli/main.ts).
const keyRotation = () => import('../../keys/key-rotation.ts');

export const keyCommands: Command[] = [
  {
    name: 'keys list',
    usage: 'govauth keys list',
    summary: 'signing keys and their state (pending, active, retired, expired)',
    options: {},
    positionals: [],
    async run(_input, ctx) {
      const { listKeys } = await keyRotation();
      const keys = await listKeys(await ctx.db(), await ctx.master(), ctx.now());
      return {
        json: { keys },
        text: table(
          ['KID', 'STATE', 'SIGNS FROM', 'RETIRES', 'LEAVES JWKS'],
          keys.map((k) => [k.kid, k.state, k.activates_at, k.retires_at ?? '-', k.expires_at ?? '-']),
        ),
      };
    },
  },
  {
    name: 'keys rotate',
    usage: 'govauth keys rotate [--prepublish <seconds>]',
    summary: 'publish a new signing key now; it signs after the pre-publication delay (GOVAUTH_KEY_PREPUBLISH)',
    options: { prepublish: { type: 'string' } },
    positionals: [],
    async run({ values }, ctx) {
      const { MAX_PREPUBLISH_SECONDS, rotateSigningKey } = await keyRotation();
      const prepublishSeconds = int(values, 'prepublish') ?? loadConfig(ctx.env).keys.prepublishSeconds;
      if (prepublishSeconds > MAX_PREPUBLISH_SECONDS) throw new UsageError(`--prepublish must be at most ${MAX_PREPUBLISH_SECONDS} seconds (30 days)`);
      const kid = await rotateSigningKey(await ctx.db(), await ctx.master(), { prepublishSeconds, now: ctx.now() }, ctx.actor);
      const activates = new Date(ctx.now() + prepublishSeconds * 1000).toISOString();
      return {
        json: { kid, activates_at: activates, prepublish_seconds: prepublishSeconds },
        text:
          `new signing key ${kid} is published now and signs from ${activates}.\n` +
          'The current key stops signing then and stays published until the tokens it signed have expired.',
      };
    },
  },
  {
    name: 'keys withdraw',
    usage: 'govauth keys withdraw <kid>',
    summary: 'emergency: remove a (compromised) key from JWKS now; tokens it signed stop verifying',
    options: {},
    positionals: ['kid'],
    async run({ positionals }, ctx) {
      const { withdrawSigningKey } = await keyRotation();
      await withdrawSigningKey(await ctx.db(), positionals[0] ?? '', ctx.actor, ctx.now());
      return { json: { withdrawn: positionals[0] }, text: `key ${positionals[0]} withdrawn: it no longer signs and is no longer published` };
    },
  },
];
