// `govauth audit access` for people: one line per principal and path, then what the replay
// could not see.
import type { AccessPath, AccessReport, PrincipalAccess } from './audit-access.ts';

const span = (i: { since: string | null; until: string | null }): string => `since ${i.since ?? '(before the retained trail)'} until ${i.until ?? '(no end)'}`;
const pathLine = (p: AccessPath): string => `    via role ${p.role}${p.included_role ? ` (includes ${p.included_role})` : ''}: granted ${span(p.grant)}; role carries the scope ${span(p.role_scope)}`;

function principalLines(tag: string, p: PrincipalAccess): string[] {
  return [
    `${tag} ${p.type} ${p.name} (${p.id})${p.blocked.length ? `: ${p.blocked.join('; ')}` : ''}`,
    ...p.paths.map(pathLine),
    ...p.scope_grants.map((g) => `    via a scope grant${g.request ? ` (access request ${g.request})` : ''}: since ${g.since} until ${g.until}`),
    ...p.revocations.map((r) => `    revoked: tokens issued before ${r.cutoff} (${r.reason ?? 'no reason given'})`),
  ];
}

export function accessText(r: AccessReport): string {
  const lines = [`who could access ${r.resource} with scope ${r.scope} at ${r.at}`];
  if (!r.scope_on_resource.offered) lines.push(`nobody: ${r.resource} did not offer ${r.scope} at that time`);
  else {
    lines.push(`the resource offered the scope ${span(r.scope_on_resource)}`);
    if (!r.could_access.length) lines.push('nobody held it');
    for (const p of r.could_access) lines.push(...principalLines('CAN    ', p));
    for (const p of r.blocked) lines.push(...principalLines('BLOCKED', p));
    lines.push(`apps people could use: ${r.apps.map((a) => `${a.name} (${a.client_id})`).join(', ') || '(none)'}`);
    lines.push(`access tokens live then: ${r.tokens.live.length}${r.tokens.truncated ? '+' : ''}${r.tokens.live.slice(0, 5).map((t) => `\n    ${t.jti ?? '?'} ${t.sub ?? t.client_id ?? ''} issued ${t.issued_at} expires ${t.expires_at}`).join('')}`);
  }
  lines.push(`history: ${r.history.complete ? 'complete' : 'INCOMPLETE'}${r.history.first_seq === null ? '' : ` (replayed from record ${r.history.first_seq}, ${r.history.first_at})`}`);
  for (const c of r.history.caveats) lines.push(`  note: ${c}`);
  return lines.join('\n');
}
