// Local validation of access tokens (RFC 9068 §4, RFC 8725): each rule, one refusal each.
import { createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createResourceServer, type ResourceServer } from '../src/index.ts';
import { signRs256 } from './helpers/stub-issuer.ts';
import { AUDIENCE, ISSUER, memoryIssuer, type MemoryIssuer } from './helpers/memory-issuer.ts';

let m: MemoryIssuer;
let kit: ResourceServer;
beforeAll(async () => {
  m = await memoryIssuer();
  kit = createResourceServer({ issuer: ISSUER, audience: AUDIENCE, fetch: m.fetch });
});

const check = async (token: string, k = kit) => {
  const d = await k.authorize({ method: 'GET', url: '/', headers: { authorization: [`Bearer ${token}`] } }, k.route({ scopes: ['ai.prediction.run'] }));
  return d.ok ? 'ok' : `${d.refusal.status} ${d.refusal.description}`;
};
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

describe('access token validation', () => {
  it('accepts a good token, with typ in either spelling and aud as a list', async () => {
    expect(await check(await m.mint())).toBe('ok');
    expect(await check(await m.mint({}, { typ: 'application/at+jwt' }))).toBe('ok');
    expect(await check(await m.mint({ aud: ['https://other.example', AUDIENCE] }))).toBe('ok');
  });

  it('refuses other algorithms: none, HS256 keyed with the public key, PS256', async () => {
    const payload = { iss: ISSUER, aud: AUDIENCE, sub: 's', client_id: 'c', jti: 'j', iat: now(), exp: now() + 60 };
    expect(await check(`${b64({ alg: 'none', typ: 'at+jwt', kid: m.key.kid })}.${b64(payload)}.`)).toBe('401 The access token is not a JWT');
    const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: m.key.kid })}.${b64(payload)}`;
    const hs = `${input}.${createHmac('sha256', JSON.stringify(m.key.jwk)).update(input).digest('base64url')}`;
    expect(await check(hs)).toBe('401 The access token is not signed with RS256');
    expect(await check(signRs256({ alg: 'PS256', typ: 'at+jwt', kid: m.key.kid }, payload, m.key.privateKey))).toBe('401 The access token is not signed with RS256');
  });

  it('refuses the wrong type, critical headers and a missing kid', async () => {
    expect(await check(await m.mint({}, { typ: 'JWT' }))).toBe('401 The token is not an access token (typ at+jwt)');
    expect(await check(await m.mint({}, { typ: undefined }))).toBe('401 The token is not an access token (typ at+jwt)');
    const crit = signRs256({ alg: 'RS256', typ: 'at+jwt', kid: m.key.kid, crit: ['exp'] }, { iss: ISSUER }, m.key.privateKey);
    expect(await check(crit)).toBe('401 The access token has critical header parameters');
    expect(await check(await m.mint({}, { kid: undefined }))).toBe('401 The access token names no key');
  });

  it('refuses a tampered payload, a signature from another key, and non-canonical base64url', async () => {
    const token = await m.mint();
    const [h, , s] = token.split('.');
    expect(await check(`${h}.${b64({ iss: ISSUER, aud: AUDIENCE, scope: 'ai.deploy.manage' })}.${s}`)).toBe('401 The access token signature is invalid');
    expect(await check(`${token.slice(0, -2)}${token.endsWith('AA') ? 'AB' : 'AA'}`)).toBe('401 The access token signature is invalid');
    expect(await check(`${h}.${token.split('.')[1]}.${s}=`)).toBe('401 The access token is not a JWT');
    expect(await check(`${h}..${s}`)).toBe('401 The access token is not a JWT');
  });

  it('checks issuer, audience and every time claim with the clock tolerance', async () => {
    expect(await check(await m.mint({ iss: 'https://evil.example' }))).toBe('401 The access token is from another issuer');
    expect(await check(await m.mint({ aud: 'https://other.example' }))).toBe('401 The access token is for another audience');
    expect(await check(await m.mint({ aud: undefined }))).toBe('401 The access token is for another audience');
    expect(await check(await m.mint({ exp: undefined }))).toBe('401 The access token has no expiry');
    expect(await check(await m.mint({ exp: now() - 10 }))).toBe('401 The access token has expired');
    expect(await check(await m.mint({ exp: now() - 3 }))).toBe('ok'); // within 5 s
    expect(await check(await m.mint({ nbf: now() + 60 }))).toBe('401 The access token is not yet valid');
    expect(await check(await m.mint({ iat: now() + 60 }))).toBe('401 The access token has no valid issue time');
    expect(await check(await m.mint({ iat: '1' }))).toBe('401 The access token has no valid issue time');
  });

  it('requires sub, client_id and jti (RFC 9068 §2.2) and a string scope', async () => {
    for (const claim of ['sub', 'client_id', 'jti']) expect(await check(await m.mint({ [claim]: undefined })), claim).toBe('401 The access token lacks a required claim');
    expect(await check(await m.mint({ scope: ['ai.prediction.run'] }))).toBe('401 The access token scope is malformed');
    expect(await check(await m.mint({ scope: 'ai.training.read' }))).toBe('403 The access token lacks a scope this resource needs');
  });

  it('refuses tokens bound by a confirmation method it cannot check (RFC 7800 §3.1)', async () => {
    expect(await check(await m.mint({ cnf: { jwk: { kty: 'EC' } } }))).toBe('401 The access token is bound by a confirmation method this resource server cannot check');
    expect(await check(await m.mint({ cnf: 'x' }))).toBe('401 The access token is bound by a confirmation method this resource server cannot check');
    const noDpop = createResourceServer({ issuer: ISSUER, audience: AUDIENCE, fetch: m.fetch, dpop: false });
    expect(await check(await m.mint({ cnf: { jkt: 'abc' } }), noDpop)).toBe('401 The access token is DPoP-bound and DPoP is not accepted here');
  });

  it('exposes act, may_act, roles and cnf to the handler', async () => {
    const token = await m.mint({ sub: 'usr_1', act: { sub: 'cl_agent', act: { sub: 'cl_first' } }, may_act: { sub: 'cl_agent' }, roles: ['end-user', 7] });
    const d = await kit.authorize({ method: 'GET', url: '/', headers: { authorization: [`Bearer ${token}`] } }, kit.route());
    expect(d.ok && { act: d.token.act, mayAct: d.token.mayAct, roles: d.token.roles, subject: d.token.subject }).toEqual({
      act: { sub: 'cl_agent', act: { sub: 'cl_first' } },
      mayAct: { sub: 'cl_agent' },
      roles: ['end-user'],
      subject: 'usr_1',
    });
  });
});

describe('options', () => {
  it('are checked once, at creation: TypeError for misuse', () => {
    const bad: Array<Record<string, unknown>> = [
      { issuer: 'auth.example', audience: AUDIENCE },
      { issuer: ISSUER, audience: '' },
      { issuer: ISSUER, audience: [] },
      { issuer: ISSUER, audience: 'urn:x' },
      { issuer: ISSUER, audience: AUDIENCE, resource: 'https://a.example/?q=1' },
      { issuer: ISSUER, audience: AUDIENCE, dpop: { algorithms: ['HS256'] } },
      { issuer: ISSUER, audience: AUDIENCE, usage: true },
      { issuer: ISSUER, audience: AUDIENCE, clockTolerance: -1 },
    ];
    for (const o of bad) expect(() => createResourceServer(o as never), JSON.stringify(o)).toThrow(TypeError);
    expect(() => kit.route({ scopes: ['a b'] })).toThrow(TypeError);
    // An audience that is not a URL is fine with an explicit resource identifier.
    expect(createResourceServer({ issuer: ISSUER, audience: 'urn:models', resource: 'https://models.example/v1/' }).metadataPath).toBe('/.well-known/oauth-protected-resource/v1');
  });
});
