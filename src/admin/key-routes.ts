// /keys: signing keys and their rotation (as `govauth keys list|rotate|withdraw`), through the
// same functions, so a rotation here is staged exactly like one from the CLI or the scheduler
// (src/keys/key-rotation.ts). The dispatcher syncs policy after the write, which reloads this
// instance's keyring: the caller's next /jwks already shows the change.
import { z } from 'zod';
import { listKeys, MAX_PREPUBLISH_SECONDS, rotateSigningKey, withdrawSigningKey, type KeyView } from '../keys/key-rotation.ts';
import { route, type AdminDeps } from './route.ts';
import { keyView } from './views.ts';

const rotateBody = z
  .strictObject({
    prepublish: z
      .number()
      .int()
      .min(0)
      .max(MAX_PREPUBLISH_SECONDS)
      .optional()
      .describe(`Seconds the new key is published before it signs (0 to ${MAX_PREPUBLISH_SECONDS}; default GOVAUTH_KEY_PREPUBLISH). 0 only in an emergency: resource servers with a cached JWKS will not know it yet`),
  })
  .optional();

/** The key as `keys list` shows it, after the change (on the server's clock, which policy uses). */
async function findKey(deps: AdminDeps, kid: string): Promise<KeyView> {
  const key = (await listKeys(deps.db, deps.master, deps.now())).find((k) => k.kid === kid);
  if (!key) throw new TypeError(`signing key ${kid} vanished after its change`);
  return key;
}

export const keyRoutes = [
  route({
    method: 'GET', path: '/keys', operationId: 'listKeys', summary: 'List signing keys and their state (pending, active, retired, expired)', tag: 'keys', access: 'read',
    response: z.strictObject({ keys: z.array(keyView) }),
    handle: async ({ deps }) => ({ keys: await listKeys(deps.db, deps.master, deps.now()) }),
  }),
  route({
    method: 'POST', path: '/keys/rotate', operationId: 'rotateKey', summary: 'Publish a new signing key now; it signs after the pre-publication delay, and the current key then retires', tag: 'keys', access: 'write',
    body: rotateBody, response: z.strictObject({ key: keyView }),
    async handle({ deps, body, actor }) {
      const prepublishSeconds = body?.prepublish ?? deps.config.keys.prepublishSeconds;
      const kid = await rotateSigningKey(deps.db, deps.master, { prepublishSeconds, now: deps.now() }, actor);
      // Only a scheduled rotation (onlyIfOlderThanMs) can decline to rotate.
      if (kid === undefined) throw new TypeError('an unconditional rotation returned no key');
      return { key: await findKey(deps, kid) };
    },
  }),
  route({
    method: 'POST', path: '/keys/{kid}/withdraw', operationId: 'withdrawKey', summary: 'Emergency: take a (compromised) key out of JWKS now; tokens it signed stop verifying. Refused (409) for the only signing key: rotate with prepublish 0 first', tag: 'keys', access: 'write', errors: [404, 409],
    response: z.strictObject({ key: keyView }),
    async handle({ deps, params, actor }) {
      await withdrawSigningKey(deps.db, params.kid, actor, deps.now());
      return { key: await findKey(deps, params.kid) };
    },
  }),
];
