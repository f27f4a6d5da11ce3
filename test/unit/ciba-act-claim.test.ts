// The act claim of a CIBA token (act-claim.ts approvalClaims): accepted by introspection and
// token exchange's parser only in exactly the shape govauth signs, the agent acting being the
// token's own client; anything else is a malformed chain (the token is not active).
import { describe, expect, it } from 'vitest';
import { approvalClaims, approvalOf, chainOf, exchangedFromOf } from '../../src/governance/act-claim.ts';

const agent = 'cl_agent';
const signed = { sub: 'usr_alice', client_id: agent, ...approvalClaims(agent, 'cr_1') };

describe('a CIBA approval as act', () => {
  it('is the agent acting on the person’s approval: no delegation chain to judge, nothing exchanged from', () => {
    expect(signed).toMatchObject({ act: { sub: agent }, ciba_request: 'cr_1' });
    expect(approvalOf(signed)).toBe('cr_1');
    expect(chainOf(signed)).toEqual([]);
    expect(exchangedFromOf(signed)).toEqual([]);
  });

  it('is malformed when the actor is another client, nested, or mixed with a delegation chain', () => {
    for (const claims of [
      { ...signed, act: { sub: 'cl_other' } },
      { ...signed, act: { sub: agent, act: { sub: 'cl_x' } } },
      { ...signed, act: 'cl_agent' },
      { ...signed, delegations: ['dp_1'] },
      { ...signed, exchanged_from: ['jti'] },
      { ...signed, ciba_request: '' },
      { ...signed, ciba_request: 7 },
    ]) {
      expect(approvalOf(claims), JSON.stringify(claims)).toBeUndefined();
      expect(chainOf(claims), JSON.stringify(claims)).toBeUndefined();
    }
  });

  it('leaves delegated and plain tokens as they were', () => {
    expect(chainOf({ sub: 'usr_a', client_id: agent })).toEqual([]);
    expect(chainOf({ sub: 'usr_a', client_id: agent, act: { sub: agent }, delegations: ['dp_1'], exchanged_from: ['j'] })).toEqual([{ actor: agent, delegationId: 'dp_1' }]);
    expect(exchangedFromOf({ act: { sub: agent }, delegations: ['dp_1'] })).toBeUndefined();
  });
});
