// /roles/{name}/required-factor and /users/{email}/factors: the factor a role requires of the
// people holding it, and a person's factors against it (as `govauth role require-factor` and
// `govauth user show`).
import { z } from 'zod';
import { factorStatus, parseAcrArgument, parseFactorArgument, setRoleRequiredFactor, setScopeRequiredAcr } from '../governance/factor-policy.ts';
import { getUser } from '../governance/user-registry.ts';
import { recordRead } from './read-audit.ts';
import { route } from './route.ts';

const factor = z.enum(['passkey', 'totp', 'any']);
const requirement = z.strictObject({ factor, roles: z.array(z.string()) });

export const factorRoutes = [
  route({
    method: 'PUT', path: '/scopes/{name}/required-acr', operationId: 'setScopeRequiredAcr', tag: 'scopes', access: 'write', errors: [404],
    summary: 'Only a phishing-resistant sign-in (a passkey, acr urn:govauth:acr:phr) may carry the scope; null removes the requirement',
    body: z.strictObject({ acr: z.enum(['phr']).nullable().describe('phr, or null for none') }),
    response: z.strictObject({ scope: z.strictObject({ scope: z.string(), require_acr: z.enum(['phr']).nullable() }) }),
    handle: async ({ deps, params, body, actor }) => ({ scope: await setScopeRequiredAcr(deps.db, params.name, parseAcrArgument(body.acr ?? 'none'), actor) }),
  }),
  route({
    method: 'PUT', path: '/roles/{name}/required-factor', operationId: 'setRoleRequiredFactor', tag: 'roles', access: 'write', errors: [404],
    summary: 'Require a second factor of everyone holding the role (at sign-in and step-up); null removes the requirement',
    body: z.strictObject({ factor: factor.nullable().describe('passkey, totp, any (either), or null for none') }),
    response: z.strictObject({ role: z.strictObject({ role: z.string(), require_factor: factor.nullable() }) }),
    handle: async ({ deps, params, body, actor }) => ({ role: await setRoleRequiredFactor(deps.db, params.name, parseFactorArgument(body.factor ?? 'none'), actor) }),
  }),
  route({
    method: 'GET', path: '/users/{email}/factors', operationId: 'getUserFactors', tag: 'users', access: 'read', errors: [404],
    summary: "A person's second factors (TOTP, passkeys) against what their roles require",
    response: z.strictObject({
      factors: z.strictObject({
        totp_enrolled: z.boolean(),
        passkeys: z.number().int(),
        required: z.array(requirement),
        missing: z.array(requirement).describe('Required factors the person has not set up: they cannot sign in to those roles with them yet'),
      }),
    }),
    async handle(call) {
      const user = await getUser(call.deps.db, call.params.email);
      await recordRead(call, { operation: 'getUserFactors', subject: user.id, returned: 1 });
      return { factors: await factorStatus(call.deps.db, user, call.deps.now()) };
    },
  }),
];
