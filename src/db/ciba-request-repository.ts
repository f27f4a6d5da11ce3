// CIBA requests as govauth tracks them (CibaRequest), beside oidc-provider's own
// BackchannelAuthenticationRequest (authReqId). Every state change is one conditional update, so
// two decisions at once, or a decision and the expiry sweep, have exactly one winner.
// The lifecycle and its audit records are src/governance/ciba-requests.ts.
import { prismaOf, type Reader, type Tx } from './database.ts';

export interface CibaRequestRow {
  readonly id: string;
  readonly authReqId: string;
  readonly clientId: string;
  readonly userId: string | null;
  readonly bindingMessage: string | null;
  /** JSON array of the scopes asked for. */
  readonly scopes: string;
  readonly resource: string | null;
  /** pending | approved | denied | expired */
  readonly status: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly decidedAt: Date | null;
  readonly decidedBy: string | null;
  /** The oidc-provider Grant its approval became (src/oidc/ciba.ts), once created. */
  readonly grantId: string | null;
}

export async function insertCibaRequest(tx: Tx, row: Omit<CibaRequestRow, 'status' | 'decidedAt' | 'decidedBy' | 'grantId'>): Promise<void> {
  await tx.cibaRequest.create({ data: { ...row, status: 'pending' } });
}

export const findCibaRequest = (h: Reader, id: string): Promise<CibaRequestRow | null> => prismaOf(h).cibaRequest.findUnique({ where: { id } });

/** The person's requests still waiting for them at `now`, oldest first. */
export const pendingCibaRequestsOf = (h: Reader, userId: string, now: Date): Promise<CibaRequestRow[]> =>
  prismaOf(h).cibaRequest.findMany({ where: { userId, status: 'pending', expiresAt: { gt: now } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });

/** pending → `status` if still pending and not expired at `now`: true for the one caller that moved it. */
export async function closePendingCibaRequest(tx: Tx, id: string, status: 'approved' | 'denied', decidedBy: string, now: Date): Promise<boolean> {
  const { count } = await tx.cibaRequest.updateMany({ where: { id, status: 'pending', expiresAt: { gt: now } }, data: { status, decidedBy, decidedAt: now } });
  return count === 1;
}

/** approved → names `grantId`, once: true for the one caller that set it. */
export async function setCibaRequestGrant(h: Reader, id: string, grantId: string): Promise<boolean> {
  const { count } = await prismaOf(h).cibaRequest.updateMany({ where: { id, status: 'approved', grantId: null }, data: { grantId } });
  return count === 1;
}

/** The request whose approval became grant `grantId` (one read of a unique index). */
export const findCibaRequestByGrant = (h: Reader, grantId: string): Promise<Pick<CibaRequestRow, 'id' | 'clientId' | 'userId' | 'status'> | null> =>
  prismaOf(h).cibaRequest.findUnique({ where: { grantId }, select: { id: true, clientId: true, userId: true, status: true } });

/** Pending requests past their time at `now` (at most `limit`). */
export const expiredPendingCibaRequests = (tx: Tx, now: Date, limit = 200): Promise<CibaRequestRow[]> =>
  tx.cibaRequest.findMany({ where: { status: 'pending', expiresAt: { lte: now } }, orderBy: { expiresAt: 'asc' }, take: limit });

/** pending → expired, if it is still pending and past its time: true for the one caller that moved it. */
export async function expireCibaRequest(tx: Tx, id: string, now: Date): Promise<boolean> {
  const { count } = await tx.cibaRequest.updateMany({ where: { id, status: 'pending', expiresAt: { lte: now } }, data: { status: 'expired', decidedAt: now } });
  return count === 1;
}

/**
 * Records a poll of the token endpoint by `clientId` for `authReqId` when the previous one was at
 * least `intervalMs` ago (or there was none): false when it came too soon (CIBA Core §11
 * slow_down). One conditional update, so polls racing on several instances count once each.
 * A request of another client, or none, is left alone (true): oidc-provider refuses it itself.
 */
export async function recordCibaPoll(h: Reader, authReqId: string, clientId: string, now: Date, intervalMs: number): Promise<boolean> {
  const p = prismaOf(h);
  const { count } = await p.cibaRequest.updateMany({
    where: { authReqId, clientId, OR: [{ lastPolledAt: null }, { lastPolledAt: { lte: new Date(now.getTime() - intervalMs) } }] },
    data: { lastPolledAt: now },
  });
  if (count === 1) return true;
  const row = await p.cibaRequest.findUnique({ where: { authReqId }, select: { clientId: true } });
  return !row || row.clientId !== clientId;
}
