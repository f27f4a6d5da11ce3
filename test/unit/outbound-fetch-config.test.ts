// GOVAUTH_OUTBOUND_FETCH_*: the development allowance for server-side fetches, off by default
// and refused at start in production (src/config/outbound-fetch-config.ts).
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { createTestPki } from '../helpers/test-pki.ts';

const production = { NODE_ENV: 'production', GOVAUTH_MASTER_KEY: 'a'.repeat(64), GOVAUTH_ISSUER: 'https://auth.example', GOVAUTH_TRUST_PROXY: 'true' };

describe('outbound fetch configuration', () => {
  it('is off by default: no private addresses, only the system authorities', () => {
    expect(loadConfig({}).outboundFetch).toEqual({ allowPrivate: false, ca: undefined });
    expect(loadConfig(production).outboundFetch).toEqual({ allowPrivate: false, ca: undefined });
  });

  it('reads the allowance and the extra authority outside production', () => {
    const pki = createTestPki();
    const c = loadConfig({ GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE: 'true', GOVAUTH_OUTBOUND_FETCH_CA_FILE: pki.caFile });
    expect(c.outboundFetch.allowPrivate).toBe(true);
    expect(c.outboundFetch.ca).toContain('-----BEGIN CERTIFICATE-----');
  });

  it('refuses to start in production with either, saying why', () => {
    expect(() => loadConfig({ ...production, GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE: 'true' })).toThrow(
      /GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE=true is refused when NODE_ENV=production: .*loopback, private, cloud metadata addresses/,
    );
    const pki = createTestPki();
    expect(() => loadConfig({ ...production, GOVAUTH_OUTBOUND_FETCH_CA_FILE: pki.caFile })).toThrow(/GOVAUTH_OUTBOUND_FETCH_CA_FILE is refused when NODE_ENV=production/);
  });

  it('reports a bad value or an unreadable or empty authority file', () => {
    expect(() => loadConfig({ GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE: 'maybe' })).toThrow(/GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE="maybe": must be true or false/);
    expect(() => loadConfig({ GOVAUTH_OUTBOUND_FETCH_CA_FILE: '/nonexistent/ca.pem' })).toThrow(/GOVAUTH_OUTBOUND_FETCH_CA_FILE=.*cannot read \/nonexistent\/ca.pem: ENOENT/);
    const empty = join(mkdtempSync(join(tmpdir(), 'govauth-ca-')), 'ca.pem');
    writeFileSync(empty, 'not a certificate');
    expect(() => loadConfig({ GOVAUTH_OUTBOUND_FETCH_CA_FILE: empty })).toThrow(/holds no PEM certificate/);
  });
});
