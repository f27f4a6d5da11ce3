// Time-boxed role grants: who holds which role until when, from the policy snapshot's clients
// and the people listed by the admin operation listUsers.
import type { PolicySnapshot } from '../governance/policy-model.ts';

export interface GrantRow {
  readonly type: 'user' | 'client';
  /** The email or client_id (what the admin operations take). */
  readonly label: string;
  readonly role: string;
  readonly expiresAt: number;
}

export interface ListedUser {
  readonly email: string;
  readonly roles: readonly { role: string; expires_at: string | null }[];
}

/** Every time-boxed grant with an end in [from, to), soonest first. */
export function timeBoxedGrants(snapshot: PolicySnapshot, users: readonly ListedUser[], from: number, to: number): GrantRow[] {
  const out: GrantRow[] = [];
  for (const c of snapshot.clients.values()) for (const g of c.roles) if (g.expiresAt !== null && g.expiresAt >= from && g.expiresAt < to) out.push({ type: 'client', label: c.id, role: g.role, expiresAt: g.expiresAt });
  for (const u of users) {
    for (const g of u.roles) {
      const end = g.expires_at === null ? null : Date.parse(g.expires_at);
      if (end !== null && end >= from && end < to) out.push({ type: 'user', label: u.email, role: g.role, expiresAt: end });
    }
  }
  return out.sort((a, b) => a.expiresAt - b.expiresAt);
}
