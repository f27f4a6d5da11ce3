// GOVAUTH_WEBHOOK_*: where notifications go and how they are signed, refused at start when
// half-configured or unsafe (src/config/webhook-config.ts).
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';

const production = { NODE_ENV: 'production', GOVAUTH_MASTER_KEY: 'a'.repeat(64), GOVAUTH_ISSUER: 'https://auth.example', GOVAUTH_TRUST_PROXY: 'true' };
const secret = `whsec_${randomBytes(32).toString('base64')}`;

describe('webhook configuration', () => {
  it('is off by default', () => {
    expect(loadConfig({}).webhook).toBeUndefined();
  });

  it('reads an https URL with jws or hmac signing; a private address is the operator\'s choice', () => {
    expect(loadConfig({ ...production, GOVAUTH_WEBHOOK_URL: 'https://10.0.0.7/hooks/govauth', GOVAUTH_WEBHOOK_SIGNING: 'jws' }).webhook).toEqual({
      url: 'https://10.0.0.7/hooks/govauth',
      signing: 'jws',
      secret: undefined,
      maxAttempts: 8,
    });
    const hmac = loadConfig({ GOVAUTH_WEBHOOK_URL: 'https://alerts.example/h', GOVAUTH_WEBHOOK_SIGNING: 'hmac', GOVAUTH_WEBHOOK_SECRET: secret, GOVAUTH_WEBHOOK_MAX_ATTEMPTS: '3' }).webhook;
    expect(hmac?.secret?.length).toBe(32);
    expect(hmac?.maxAttempts).toBe(3);
  });

  it('refuses http in production, and outside it without the development allowance', () => {
    expect(() => loadConfig({ ...production, GOVAUTH_WEBHOOK_URL: 'http://alerts.example/h', GOVAUTH_WEBHOOK_SIGNING: 'jws' })).toThrow(/GOVAUTH_WEBHOOK_URL=http:\/\/alerts\.example\/…: must use https/);
    expect(() => loadConfig({ GOVAUTH_WEBHOOK_URL: 'http://127.0.0.1:9/h', GOVAUTH_WEBHOOK_SIGNING: 'jws' })).toThrow(/must use https \(http only with GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE=true/);
    expect(loadConfig({ GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE: 'true', GOVAUTH_WEBHOOK_URL: 'http://127.0.0.1:9/h', GOVAUTH_WEBHOOK_SIGNING: 'jws' }).webhook?.url).toBe('http://127.0.0.1:9/h');
  });

  it('refuses hmac without a secret, a weak or malformed secret (never echoing it), and half a configuration', () => {
    expect(() => loadConfig({ GOVAUTH_WEBHOOK_URL: 'https://a.example/h', GOVAUTH_WEBHOOK_SIGNING: 'hmac' })).toThrow(/GOVAUTH_WEBHOOK_SIGNING=hmac needs GOVAUTH_WEBHOOK_SECRET/);
    let message = '';
    try {
      loadConfig({ GOVAUTH_WEBHOOK_URL: 'https://a.example/h', GOVAUTH_WEBHOOK_SIGNING: 'hmac', GOVAUTH_WEBHOOK_SECRET: 'hunter2-hunter2' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/GOVAUTH_WEBHOOK_SECRET=\(hidden, 15 characters\): must be whsec_ followed by 24 to 64 random bytes/);
    expect(message).not.toContain('hunter2');
    expect(() => loadConfig({ GOVAUTH_WEBHOOK_URL: 'https://a.example/h' })).toThrow(/GOVAUTH_WEBHOOK_URL needs GOVAUTH_WEBHOOK_SIGNING=jws/);
    expect(() => loadConfig({ GOVAUTH_WEBHOOK_SIGNING: 'jws' })).toThrow(/without GOVAUTH_WEBHOOK_URL/);
    expect(() => loadConfig({ GOVAUTH_WEBHOOK_URL: 'https://a.example/h', GOVAUTH_WEBHOOK_SIGNING: 'jws', GOVAUTH_WEBHOOK_SECRET: secret })).toThrow(/does not use it/);
    expect(() => loadConfig({ GOVAUTH_WEBHOOK_URL: 'https://u:p@a.example/h', GOVAUTH_WEBHOOK_SIGNING: 'jws' })).toThrow(/must not contain credentials/);
    expect(() => loadConfig({ GOVAUTH_WEBHOOK_URL: 'https://a.example/h', GOVAUTH_WEBHOOK_SIGNING: 'rsa' })).toThrow(/GOVAUTH_WEBHOOK_SIGNING="rsa"/);
  });
});
