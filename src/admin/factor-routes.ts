// /roles/{name}/required-factor and /users/{email}/factors: the factor a role requires of the
// people holding it, and a person's factors against it (as `govauth role require-factor` and
// `govauth user show`).
import { z } from 'zod';
import { parseAcrArgument, parseFactorArgument, setRoleRequiredFactor, setScopeRequiredAcr } from '../governance/factor-policy.ts';
import { getUser } from '../governance/user-registry.ts';
import { recordRead } from './read-audit.ts';
import { factorView } from './views.ts';
import { route } from './route.ts';

const factor = z.enum(['passkey', 'totp', 'any']);

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
    // The same shape as GET /users/{email}'s `factors` and the review's (factor-status.ts).
    response: z.strictObject({ factors: factorView }),
    async handle(call) {
      const user = await getUser(call.deps.db, call.params.email, call.deps.now());
      await recordRead(call, { operation: 'getUserFactors', subject: user.id, returned: 1 });
      return { factors: user.factors };
    },
  }),
];
