// Protected resource metadata (RFC 9728) for a resource with a path, the challenges without DPoP,
// and the DPoP replay cache's bound.
import { describe, expect, it } from 'vitest';
import { createResourceServer } from '../src/index.ts';
import { ReplayCache } from '../src/replay-cache.ts';
import { FRAMEWORKS, startApp } from './helpers/apps.ts';
import { ISSUER, memoryIssuer } from './helpers/memory-issuer.ts';

describe('a resource identifier with a path (RFC 9728 §3.1)', () => {
  it.each(FRAMEWORKS)('%s serves the path-suffixed metadata and points challenges at it', async (framework) => {
    const kit = createResourceServer({ issuer: ISSUER, audience: 'https://api.example/models/v2/', scopesSupported: ['ai.prediction.run'], resourceName: 'Models v2' });
    expect(kit.metadataUrl).toBe('https://api.example/.well-known/oauth-protected-resource/models/v2');
    const app = await startApp(framework, kit);
    try {
      const meta = await fetch(`${app.url}/.well-known/oauth-protected-resource/models/v2`);
      expect(meta.status).toBe(200);
      expect(meta.headers.get('access-control-allow-origin')).toBe('*');
      expect(await meta.json()).toEqual({
        resource: 'https://api.example/models/v2/',
        authorization_servers: [ISSUER],
        scopes_supported: ['ai.prediction.run'],
        bearer_methods_supported: ['header'],
        dpop_signing_alg_values_supported: ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'EdDSA', 'Ed25519'],
        resource_name: 'Models v2',
      });
      expect((await fetch(`${app.url}/.well-known/oauth-protected-resource`)).status).toBe(404);
      const refused = await fetch(`${app.url}/predict`);
      expect(refused.headers.get('www-authenticate')).toContain('resource_metadata="https://api.example/.well-known/oauth-protected-resource/models/v2"');
    } finally {
      await app.close();
    }
  });
});

describe('challenges with DPoP off', () => {
  it('carry the Bearer challenge only, and no DPoP metadata', async () => {
    const m = await memoryIssuer();
    const kit = createResourceServer({ issuer: ISSUER, audience: 'https://models.example', fetch: m.fetch, dpop: false });
    const d = await kit.authorize({ method: 'GET', url: '/', headers: { authorization: [`DPoP ${await m.mint()}`], dpop: ['x'] } }, kit.route());
    // The DPoP scheme is then an unsupported method: no credentials (RFC 6750 §3.1).
    expect(d.ok ? '' : d.refusal.headers['www-authenticate']).toBe('Bearer resource_metadata="https://models.example/.well-known/oauth-protected-resource"');
    expect(kit.metadata()).not.toHaveProperty('dpop_signing_alg_values_supported');
  });
});

describe('the DPoP replay cache', () => {
  it('refuses a jti seen within its window, forgets it after, and holds no more than its bound', () => {
    const cache = new ReplayCache(3);
    expect(cache.add('a', 1000, 0)).toBe(true);
    expect(cache.add('a', 1000, 500)).toBe(false);
    expect(cache.add('a', 2000, 1000)).toBe(true); // the first window is over
    for (const k of ['b', 'c', 'd', 'e']) cache.add(k, 5000, 1000);
    expect(cache.size).toBe(3);
    expect(cache.add('e', 5000, 1000)).toBe(false);
    expect(cache.add('b', 5000, 1000)).toBe(true); // evicted as the oldest
  });
});
