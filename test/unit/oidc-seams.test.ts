// The oidc-provider seam (src/oidc/seams.ts, upstream-strings.ts): after an upgrade of
// oidc-provider, these say which of the texts govauth matches the library no longer writes,
// and that the response wrappers still register in the one documented order.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Middleware } from 'koa';
import { describe, expect, it } from 'vitest';
import { useResponseWrappers, type ProviderWrappers } from '../../src/oidc/seams.ts';
import { CIBA_NOT_ALLOWED, FORM_POST_PAGE_TITLE, GRANT_TYPE_NOT_ALLOWED, JWKS_REFRESH_FAILED, NO_CLIENT_AUTHENTICATION, REFRESH_TOKEN_REUSED, RESPONSE_TOO_LARGE, REVOKES_GRANT, SPECIAL_USE_SOCKET_DESTROYED } from '../../src/oidc/upstream-strings.ts';

const LIB = fileURLToPath(new URL('.', import.meta.resolve('oidc-provider')));
const upstream = (file: string): string => readFileSync(`${LIB}${file}`, 'utf8');

describe('upstream strings', () => {
  it('are still written by the pinned oidc-provider where upstream-strings.ts says', () => {
    const clientAuth = upstream('shared/client_auth.js');
    for (const description of NO_CLIENT_AUTHENTICATION) expect(clientAuth).toContain(`'${description}'`);
    expect(upstream('actions/token.js')).toContain(GRANT_TYPE_NOT_ALLOWED);
    // Built there as `${grantType} is not allowed for this client`.
    expect(CIBA_NOT_ALLOWED).toMatch(/^urn:openid:params:grant-type:ciba /);
    expect(upstream('actions/authorization/client.js')).toContain('is not allowed for this client');
    expect(upstream('actions/grants/refresh_token.js')).toContain(`'${REFRESH_TOKEN_REUSED}'`);
    expect(REVOKES_GRANT.has(REFRESH_TOKEN_REUSED)).toBe(true);
    // grant_source.js builds it as `${label} already consumed` with the label 'authorization code'.
    expect(upstream('helpers/grant_source.js')).toContain('already consumed');
    expect(upstream('response_modes/form_post.js')).toContain(FORM_POST_PAGE_TITLE);
    expect(upstream('helpers/fetch_request.js')).toContain(`'${SPECIAL_USE_SOCKET_DESTROYED}'`);
    expect(upstream('helpers/fetch_body_check.js')).toContain(`'${RESPONSE_TOO_LARGE}'`);
    expect(upstream('models/client.js')).toContain(`'${JWKS_REFRESH_FAILED}'`);
  });
});

describe('useResponseWrappers', () => {
  it('registers every given wrapper once, outermost first, in the documented order', () => {
    const named = (name: string): Middleware => Object.assign(async (_ctx: unknown, next: () => Promise<void>) => next(), { wrapper: name });
    const wrappers: ProviderWrappers = {
      tokenIssuanceSpan: named('tokenIssuanceSpan'),
      discoveryMetadata: named('discoveryMetadata'),
      registrationGate: named('registrationGate'),
      endSessionAudit: named('endSessionAudit'),
      unknownClientFailures: undefined,
      databaseOutage: named('databaseOutage'),
      signOutEndsGrants: named('signOutEndsGrants'),
      formPostPage: named('formPostPage'),
      tokenErrorCodes: named('tokenErrorCodes'),
      outboundFetchFailures: named('outboundFetchFailures'),
      unknownClientTiming: named('unknownClientTiming'),
      responseAudit: named('responseAudit'),
      cibaInterval: named('cibaInterval'),
    };
    const used: string[] = [];
    const provider = { use: (mw: { wrapper: string }) => used.push(mw.wrapper) } as unknown as Parameters<typeof useResponseWrappers>[0];
    useResponseWrappers(provider, wrappers);
    expect(used).toEqual([
      'responseAudit',
      'unknownClientTiming',
      'tokenErrorCodes',
      'outboundFetchFailures',
      'formPostPage',
      'signOutEndsGrants',
      'databaseOutage',
      'endSessionAudit',
      'discoveryMetadata',
      'registrationGate',
      'cibaInterval',
      'tokenIssuanceSpan',
    ]);
  });
});
