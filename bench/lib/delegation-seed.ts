// What the CLI cannot write yet for token exchange, written straight to the database: a client's
// right to the grant, and a delegation policy (RFC 8693 §4.1: who may act for whom). TEMPORARY,
// as test/helpers/agents.ts: once the CLI has them this becomes
//   govauth client create … --grant client_credentials --grant token-exchange
//   govauth delegation allow --agent-role R --for-role P --resource AUD --scopes S
// Call it before the server starts (it then loads both); the change rows would also tell a
// running one.
import { openDatabase } from '../../src/db/database.ts';
import { TOKEN_EXCHANGE_GRANT } from '../../src/governance/delegation.ts';

export interface DelegationSeed {
  /** An existing client (made with `govauth client create --grant client_credentials`). */
  readonly agentId: string;
  readonly agentRole: string;
  readonly forRole: string;
  readonly resource: string;
  readonly scopes: readonly string[];
}

export async function allowTokenExchange(databaseUrl: string, s: DelegationSeed): Promise<void> {
  const db = await openDatabase({ kind: databaseUrl.startsWith('file:') ? 'sqlite' : 'postgresql', url: databaseUrl }, { now: Date.now });
  try {
    const policyId = 'dp_bench';
    await db.prisma.$transaction([
      db.prisma.client.update({ where: { id: s.agentId }, data: { grantTypes: JSON.stringify(['client_credentials', TOKEN_EXCHANGE_GRANT]) } }),
      db.prisma.delegationPolicy.create({ data: { id: policyId, agentRole: s.agentRole, subjectRole: s.forRole, audience: s.resource, scopes: JSON.stringify(s.scopes) } }),
      db.prisma.change.create({ data: { kind: 'client', key: s.agentId } }),
      db.prisma.change.create({ data: { kind: 'delegation', key: policyId } }),
    ]);
  } finally {
    await db.close();
  }
}
