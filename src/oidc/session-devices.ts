// Notes the browser behind each sign-in session, for the person's own list of sessions (the
// account page): oidc-provider stores no device facts with a Session. On every successful
// authorization response (oidc-provider's `authorization.success` event, lib/actions/
// authorization/respond.js) the session's uid, user agent, address and time are kept; a later
// one updates "last seen". Written after the response, never delaying or failing it.
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Database } from '../db/database.ts';
import { recordSessionDevice } from '../governance/account-activity.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../time/clock.ts';

export function recordSessionDevices(provider: Provider, deps: { db: Database; log: Logger; now: Clock }): void {
  provider.on('authorization.success', (ctx: KoaContextWithOIDC) => {
    const session = ctx.oidc.session;
    if (!session?.uid || !session.accountId) return;
    recordSessionDevice(deps.db, { sessionUid: session.uid, accountId: session.accountId, userAgent: ctx.get('user-agent') || 'unknown browser', ip: ctx.ip }, deps.now()).catch((err: unknown) =>
      deps.log.warn('could not note the device of a sign-in session', { err, requestId: ctx.state?.requestId }),
    );
  });
}
