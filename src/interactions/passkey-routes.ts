// Passkeys on the sign-in pages: passwordless sign-in with a discoverable passkey (the login
// page) and a passkey as the second factor of a step-up (the two-step page). The browser asks
// for the ceremony's options (POST …/passkey/options, JSON, with the page's form token), runs
// the WebAuthn call, and posts the answer as an ordinary form (POST …/passkey). The challenge
// is bound to this sign-in request, and for a step-up to the signed-in person; every refusal is
// audited with its reason (wrong origin, RP id, challenge, replay, counter going backwards…).
import type Router from '@koa/router';
import type { Context } from 'koa';
import { AppError } from '../errors/app-error.ts';
import { finishPasskeySignIn, startPasskeySignIn } from '../governance/passkeys.ts';
import { ACR_PHR } from '../governance/step-up.ts';
import { parseCredentialJson, type CeremonyRefusal, type RelyingParty } from '../governance/webauthn-ceremony.ts';
import { readForm } from '../http/form-body.ts';
import { sendError } from '../http/error-responses.ts';
import type { InteractionClient, InteractionDetails } from '../oidc/interaction-host.ts';
import type { InteractionDeps } from './interaction-routes.ts';

export interface PasskeyRouteHelpers {
  load(ctx: Context): Promise<{ details: InteractionDetails; client: InteractionClient }>;
  isStepUp(details: InteractionDetails): boolean;
  audit(ctx: Context, event: { type: 'login.succeeded' | 'mfa.succeeded' | 'passkey.refused'; actor?: string | undefined; clientId?: string; detail?: Record<string, unknown> }): Promise<void>;
  /** One sign-in attempt from the source address's budget, or how long to wait. */
  addressAllows(ip: string): Promise<{ retryAfter: number } | undefined>;
  /** Shows the page of this step again with an error. */
  again(ctx: Context, details: InteractionDetails, client: InteractionClient, error: string, status: number): void;
}

const binding = (uid: string): string => `signin:${uid}`;

/** What the person reads when a passkey is refused; the audit record keeps the precise reason. */
function refusalMessage(reason: CeremonyRefusal): string {
  switch (reason) {
    case 'unknown_credential':
      return 'This passkey is not registered with govauth (it may have been removed). Sign in with your password instead.';
    case 'not_your_credential':
      return 'That passkey belongs to another account. Use a passkey of the account you are signed in with.';
    case 'no_challenge':
      return 'The passkey request expired or was already used. Try again.';
    case 'account_disabled':
      return 'This account is disabled.';
    default:
      return 'That passkey could not be verified. Try again, or sign in another way.';
  }
}

export function passkeyRoutes(router: Router, deps: InteractionDeps & { readonly rp: RelyingParty }, h: PasskeyRouteHelpers): void {
  router.post('/:uid/passkey/options', async (ctx) => {
    try {
      const { details } = await h.load(ctx);
      const form = await readForm(ctx);
      deps.forms.check(details.uid, form.csrf);
      if (details.prompt.name !== 'login') throw new AppError('invalid_request', 'This step of the sign-in is already complete.');
      // A step-up asks for one of the signed-in person's own passkeys; a sign-in, any discoverable one.
      const userId = h.isStepUp(details) ? (details.session?.accountId ?? null) : null;
      const options = await startPasskeySignIn(deps.db, deps.rp, binding(details.uid), userId, deps.now());
      ctx.set('Cache-Control', 'no-store');
      ctx.body = options;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      sendError(ctx, err.status, err.code, err.message, ctx.state.requestId);
    }
  });

  router.post('/:uid/passkey', async (ctx) => {
    const { details, client } = await h.load(ctx);
    const form = await readForm(ctx);
    deps.forms.check(details.uid, form.csrf);
    if (details.prompt.name !== 'login') throw new AppError('invalid_request', 'This step of the sign-in is already complete.');
    const stepUp = h.isStepUp(details);
    const sessionAccount = details.session?.accountId;
    const limited = await h.addressAllows(ctx.ip);
    if (limited) {
      ctx.set('Retry-After', String(limited.retryAfter));
      h.again(ctx, details, client, `Too many sign-in attempts. Try again in ${limited.retryAfter} seconds.`, 429);
      return;
    }
    const refuse = async (reason: CeremonyRefusal, who: { userId?: string | undefined; passkeyId?: string | undefined } = {}): Promise<void> => {
      await h.audit(ctx, {
        type: 'passkey.refused',
        actor: who.userId ?? sessionAccount,
        clientId: client.clientId,
        detail: { reason, step: stepUp ? 'step_up' : 'sign_in', ...(who.passkeyId && { passkey_id: who.passkeyId }) },
      });
      h.again(ctx, details, client, refusalMessage(reason), 401);
    };
    const response = parseCredentialJson(form.response);
    if (!response) return refuse('malformed');
    const result = await finishPasskeySignIn(deps.db, deps.rp, { binding: binding(details.uid), response }, deps.now());
    if (!result.ok) return refuse(result.reason, result);
    if (stepUp && result.userId !== sessionAccount) return refuse('not_your_credential', result);
    const user = deps.policy.user(result.userId);
    if (!user || user.disabled) return refuse('account_disabled', result);
    // A step-up adds the passkey to how this sign-in was made (RFC 8176 amr); a passwordless
    // sign-in is the passkey alone, multi-factor by itself (possession + user verification).
    const amr = stepUp ? [...new Set([...(details.session?.amr ?? []), ...result.amr])] : result.amr;
    await h.audit(ctx, { type: stepUp ? 'mfa.succeeded' : 'login.succeeded', actor: result.userId, clientId: client.clientId, detail: { amr, method: 'passkey', passkey_id: result.passkeyId } });
    await deps.interactions.finish(ctx, { login: { accountId: result.userId, amr, acr: ACR_PHR, remember: true } });
  });
}
