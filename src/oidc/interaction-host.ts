// What the sign-in pages (src/interactions) may ask of oidc-provider: its public interaction API
// (interactionDetails, interactionFinished, Grant, as in example/routes/koa.js), through types
// govauth owns, so the pages never import oidc-provider.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { isInteractionGone } from './upstream-strings.ts';

/** The interaction in progress for this browser (oidc-provider's Interaction, the parts used). */
export interface InteractionDetails {
  readonly uid: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly prompt: { readonly name: string; readonly reasons: readonly string[]; readonly details: Readonly<Record<string, unknown>> };
  readonly session?: { readonly accountId: string; readonly uid: string; readonly amr?: readonly string[] | undefined } | undefined;
}

export interface InteractionClient {
  readonly clientId: string;
  readonly clientName?: string | undefined;
  readonly redirectUris?: readonly string[] | undefined;
}

/** How an interaction ends (oidc-provider's InteractionResults, the parts govauth sends). */
type InteractionOutcome =
  | { readonly login: { readonly accountId: string; readonly amr: string[]; readonly acr: string; readonly remember: boolean } }
  | { readonly consent: { readonly grantId: string } }
  | { readonly error: string; readonly error_description: string };

/** What a person consented to: OpenID scopes, and per resource the scopes granted and withheld. */
interface ConsentGrant {
  readonly accountId: string;
  readonly clientId: string;
  readonly oidcScopes: readonly string[];
  readonly grantable: ReadonlyMap<string, readonly string[]>;
  readonly withheld: ReadonlyMap<string, readonly string[]>;
}

/** The interaction cookie or its record is missing or expired: the sign-in can only restart. */
export class InteractionGone extends Error {}

export interface InteractionHost {
  /** Throws InteractionGone when this browser has no interaction in progress. */
  details(ctx: Context): Promise<InteractionDetails>;
  findClient(clientId: string): Promise<InteractionClient | undefined>;
  /** When the session's person last signed in (epoch seconds). */
  sessionLoginTime(sessionUid: string): Promise<number | undefined>;
  /** Saves a fresh Grant and returns its id. */
  saveConsent(grant: ConsentGrant): Promise<string>;
  /** Answers with oidc-provider's 303 to its resume endpoint; the response is then sent. */
  finish(ctx: Context, outcome: InteractionOutcome, merge?: boolean): Promise<void>;
}

/** Over the current provider (it is rebuilt when signing keys change, provider-host.ts). */
export function createInteractionHost(provider: () => Provider): InteractionHost {
  return {
    async details(ctx) {
      try {
        return await provider().interactionDetails(ctx.req, ctx.res);
      } catch (err) {
        if (isInteractionGone(err)) throw new InteractionGone((err as Error).message);
        throw err;
      }
    },
    findClient: (clientId) => provider().Client.find(clientId),
    sessionLoginTime: async (sessionUid) => (await provider().Session.findByUid(sessionUid))?.loginTs,
    async saveConsent({ accountId, clientId, oidcScopes, grantable, withheld }) {
      const grant = new (provider().Grant)({ accountId, clientId });
      if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
      for (const [resource, scopes] of grantable) grant.addResourceScope(resource, scopes.join(' '));
      for (const [resource, scopes] of withheld) if (scopes.length) grant.rejectResourceScope(resource, scopes.join(' '));
      return grant.save();
    },
    async finish(ctx, outcome, merge = false) {
      await provider().interactionFinished(ctx.req, ctx.res, outcome, { mergeWithLastSubmission: merge });
      ctx.respond = false;
    },
  };
}
