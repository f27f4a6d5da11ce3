// Sign-out ends access: every grant issued in the browser session is revoked, with its refresh
// tokens and every access token issued under it (README "Sign in a person").
//
// oidc-provider alone does less (lib/actions/end_session.js): it revokes only the grants the
// session still lists, and skips those marked `persistsLogout`, which is every grant that
// included offline_access (lib/helpers/process_response_types.js, default expiresWithSession).
// An app that consented twice in one session is listed with its latest grant only. So after it
// has answered a confirmed sign-out (303), this revokes each grant linked to the session
// (oidc-adapter.ts links a Grant row to the session its code was issued in) through the same
// hook as every protocol revocation: recorded for introspection, rows deleted, audited.
import type { Middleware } from 'koa';
import { protocolOf } from './seams.ts';
import type { Database } from '../db/database.ts';
import type { RevocationState } from '../governance/revocation-state.ts';
import { grantsOfSession } from '../db/oidc-storage.ts';
import type { GrantRevokedHook } from './oidc-adapter.ts';

export function signOutEndsGrants(deps: { db: Database; revocations: RevocationState; revokeGrant: GrantRevokedHook }): Middleware {
  return async (ctx, next) => {
    await next();
    const oidc = protocolOf(ctx);
    if (oidc?.route !== 'end_session_confirm' || ctx.status !== 303) return;
    const session = oidc.session;
    if (!session?.uid) return;
    // logout=yes ends the whole session; without it (the person chose to stay signed in to
    // govauth) only the app that asked for the sign-out loses its grants.
    const everywhere = Boolean(oidc.params?.logout);
    const clientId = everywhere ? undefined : oidc.client?.clientId;
    if (!everywhere && !clientId) return;
    const listed = everywhere ? Object.values(session.authorizations ?? {}).map((a) => a.grantId) : [];
    const grantIds = new Set([...listed, ...(await grantsOfSession(deps.db, session.uid, clientId))].filter((g): g is string => Boolean(g)));
    for (const grantId of grantIds) {
      // Grants oidc-provider revoked a moment ago are already recorded (oidc-adapter.ts).
      if (!deps.revocations.get('grant', grantId)) await deps.revokeGrant(grantId, 'signed out');
    }
  };
}
