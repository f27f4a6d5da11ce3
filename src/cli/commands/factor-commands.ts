// govauth role require-factor … and scope require-acr …: the factor a role requires of the people
// who hold it, and the phishing-resistant sign-in a scope requires (src/governance/factor-policy.ts).
import type { Command } from '../command.ts';

const factorPolicy = () => import('../../governance/factor-policy.ts');

export const factorCommands: Command[] = [
  {
    name: 'role require-factor',
    usage: 'govauth role require-factor <role> <passkey|totp|any|none>',
    summary: 'require a second factor of everyone holding a role, at sign-in and step-up (none: no requirement)',
    options: {},
    positionals: ['role', 'factor'],
    async run({ positionals }, ctx) {
      const { parseFactorArgument, setRoleRequiredFactor } = await factorPolicy();
      const factor = parseFactorArgument(positionals[1]);
      const result = await setRoleRequiredFactor(await ctx.db(), positionals[0] ?? '', factor, ctx.actor);
      return {
        json: { role: result },
        text: factor ? `role ${result.role}: people holding it must sign in with ${factor === 'any' ? 'a second factor' : `a ${factor === 'totp' ? 'TOTP code' : 'passkey'}`}` : `role ${result.role}: no factor required`,
      };
    },
  },
  {
    name: 'scope require-acr',
    usage: 'govauth scope require-acr <scope> <phr|none>',
    summary: 'only a phishing-resistant sign-in (a passkey, acr urn:govauth:acr:phr) may carry the scope (none: no requirement)',
    options: {},
    positionals: ['scope', 'acr'],
    async run({ positionals }, ctx) {
      const { parseAcrArgument, setScopeRequiredAcr } = await factorPolicy();
      const result = await setScopeRequiredAcr(await ctx.db(), positionals[0] ?? '', parseAcrArgument(positionals[1]), ctx.actor);
      return { json: { scope: result }, text: result.require_acr ? `scope ${result.scope}: only a sign-in with a passkey may carry it` : `scope ${result.scope}: no acr required` };
    },
  },
];
