import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load-config.ts';

describe('loadConfig', () => {
  it('has working defaults for development: SQLite under ./data and a generated master key file', () => {
    const c = loadConfig({}, '/srv/app');
    expect(c.database).toEqual({ kind: 'sqlite', url: 'file:/srv/app/data/govauth.db', isDefault: true });
    expect(c.masterKey).toEqual({ file: '/srv/app/data/master.key' });
    expect(c).toMatchObject({ port: 3000, host: '127.0.0.1', accessTokenTtl: 300, issuer: undefined, trustProxy: false });
    expect(c.rateLimits).toEqual({ tokenPerClient: 1200, signInPerAccount: 20, signInPerAddress: 120, clientAuthFailuresPerAddress: 60, resourceUsagePerClient: 600, registrationPerAddress: 20, metadataDocumentPerAddress: 30 });
    // Strangers' clients reach the consent page only when an operator says so.
    expect(c.selfRegistration).toEqual({ metadataDocuments: false, dynamicRegistration: 'off' });
    expect(c.keys).toEqual({ prepublishSeconds: 3600, rotationDays: 90 });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('refuses an unknown dynamic registration mode and a non-boolean metadata document switch, naming both', () => {
    expect(() => loadConfig({ GOVAUTH_DYNAMIC_REGISTRATION: 'yes', GOVAUTH_CLIENT_ID_METADATA_DOCUMENTS: 'sure' }, '/srv/app')).toThrow(/GOVAUTH_DYNAMIC_REGISTRATION[\s\S]*GOVAUTH_CLIENT_ID_METADATA_DOCUMENTS|GOVAUTH_CLIENT_ID_METADATA_DOCUMENTS[\s\S]*GOVAUTH_DYNAMIC_REGISTRATION/);
    expect(loadConfig({ GOVAUTH_DYNAMIC_REGISTRATION: 'token' }, '/srv/app').selfRegistration.dynamicRegistration).toBe('token');
  });

  it('bounds how long a change waits to be in force on every instance (default 2 s)', () => {
    expect(loadConfig({}).propagationWaitMs).toBe(2000);
    expect(loadConfig({ GOVAUTH_PROPAGATION_WAIT_MS: '0' }).propagationWaitMs).toBe(0);
    for (const bad of ['-1', '60001', '2s']) {
      expect(() => loadConfig({ GOVAUTH_PROPAGATION_WAIT_MS: bad })).toThrow(/GOVAUTH_PROPAGATION_WAIT_MS=.*must be a whole number between 0 and 60000/);
    }
  });

  it('lets resource servers cache a token status list 10 s by default, 1 s at the least', () => {
    expect(loadConfig({}).statusListTtl).toBe(10);
    expect(loadConfig({ GOVAUTH_STATUS_LIST_TTL: '1' }).statusListTtl).toBe(1);
    for (const bad of ['0', '3601', '0.5', '10s']) {
      expect(() => loadConfig({ GOVAUTH_STATUS_LIST_TTL: bad })).toThrow(/GOVAUTH_STATUS_LIST_TTL=.*must be a whole number between 1 and 3600/);
    }
  });

  it('recognises PostgreSQL and relative SQLite URLs', () => {
    expect(loadConfig({ DATABASE_URL: 'postgresql://u:p@db:5432/govauth' }).database.kind).toBe('postgresql');
    expect(loadConfig({ DATABASE_URL: 'file:./x.db' }, '/srv').database.url).toBe('file:/srv/x.db');
  });

  it('keeps audit records at least 30 days: GOVAUTH_AUDIT_RETENTION_DAYS may raise the prune floor, a value under 30 is refused', () => {
    expect(loadConfig({})).toMatchObject({ auditRetentionDays: 0, auditPruneFloorDays: 30 });
    expect(loadConfig({ GOVAUTH_AUDIT_RETENTION_DAYS: '0' })).toMatchObject({ auditRetentionDays: 0, auditPruneFloorDays: 30 });
    expect(loadConfig({ GOVAUTH_AUDIT_RETENTION_DAYS: '400' })).toMatchObject({ auditRetentionDays: 400, auditPruneFloorDays: 400 });
    expect(() => loadConfig({ GOVAUTH_AUDIT_RETENTION_DAYS: '29' })).toThrow(/GOVAUTH_AUDIT_RETENTION_DAYS="29": must be 0 \(keep records forever\) or at least 30/);
  });

  it('reports every invalid variable at once', () => {
    try {
      loadConfig({ GOVAUTH_PORT: 'x', GOVAUTH_TRUST_PROXY: 'maybe', GOVAUTH_MASTER_KEY: 'short', GOVAUTH_ISSUER: 'https://a.example/path', GOVAUTH_RATE_LIMIT_TOKEN: '-1', GOVAUTH_KEY_PREPUBLISH: 'soon' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toMatch(/GOVAUTH_PORT/);
      expect(problems).toMatch(/GOVAUTH_TRUST_PROXY/);
      expect(problems).toMatch(/GOVAUTH_MASTER_KEY=.*32 random bytes/);
      expect(problems).toMatch(/GOVAUTH_ISSUER=.*without a path/);
      expect(problems).toMatch(/GOVAUTH_RATE_LIMIT_TOKEN="-1": must be a whole number between 0 and/);
      expect(problems).toMatch(/GOVAUTH_KEY_PREPUBLISH="soon": must be a whole number/);
    }
  });

  it('requires a master key and an https issuer behind a proxy in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/GOVAUTH_MASTER_KEY .*required[\s\S]*https issuer is required/);
    expect(() => loadConfig({ NODE_ENV: 'production', GOVAUTH_MASTER_KEY: 'a'.repeat(64), GOVAUTH_ISSUER: 'https://auth.example' })).toThrow(/GOVAUTH_TRUST_PROXY=true/);
    const ok = loadConfig({ NODE_ENV: 'production', GOVAUTH_MASTER_KEY: 'a'.repeat(64), GOVAUTH_ISSUER: 'https://auth.example', GOVAUTH_TRUST_PROXY: 'true' });
    expect(ok.issuer).toBe('https://auth.example');
  });

  it('never quotes a secret back: the master key is hidden, a database password masked', () => {
    const problems = (env: Record<string, string>): string => {
      try {
        loadConfig(env);
      } catch (err) {
        return (err as ConfigError).problems.join('\n');
      }
      throw new Error('expected a ConfigError');
    };
    const key = problems({ GOVAUTH_MASTER_KEY: 'hunter2-not-32-bytes' });
    expect(key).toMatch(/GOVAUTH_MASTER_KEY=\(hidden, 20 characters\): .*32 random bytes/);
    expect(key).not.toContain('hunter2');
    const db = problems({ DATABASE_URL: 'mysql://admin:s3cret@db.example/govauth' });
    expect(db).toMatch(/DATABASE_URL="mysql:\/\/admin:\*\*\*@db\.example\/govauth"/);
    expect(db).not.toContain('s3cret');
  });

  it('serves metrics on 127.0.0.1:9464 by default (off under NODE_ENV=test), validating the listener and the token', () => {
    expect(loadConfig({}).metrics).toEqual({ listen: { host: '127.0.0.1', port: 9464 }, token: undefined });
    expect(loadConfig({ NODE_ENV: 'test' }).metrics.listen).toBeUndefined();
    expect(loadConfig({ GOVAUTH_METRICS_LISTEN: 'off' }).metrics.listen).toBeUndefined();
    expect(loadConfig({ GOVAUTH_METRICS_LISTEN: '0.0.0.0:9100' }).metrics.listen).toEqual({ host: '0.0.0.0', port: 9100 });
    expect(loadConfig({ GOVAUTH_METRICS_LISTEN: '[::1]:9100' }).metrics.listen).toEqual({ host: '::1', port: 9100 });
    expect(loadConfig({ GOVAUTH_METRICS_LISTEN: '9100' }).metrics.listen).toEqual({ host: '127.0.0.1', port: 9100 });
    for (const bad of ['yes please', 'host:99999', 'http://x:1', ':']) {
      expect(() => loadConfig({ GOVAUTH_METRICS_LISTEN: bad })).toThrow(/GOVAUTH_METRICS_LISTEN=.*must be off, a port, or host:port/);
    }
    expect(() => loadConfig({ GOVAUTH_PORT: '9464' })).toThrow(/GOVAUTH_METRICS_LISTEN uses GOVAUTH_PORT \(9464\): metrics get their own port/);
    const token = 'f'.repeat(64);
    expect(loadConfig({ GOVAUTH_METRICS_TOKEN: token }).metrics.token).toBe(token);
    let message = '';
    try {
      loadConfig({ GOVAUTH_METRICS_TOKEN: 'hunter2hunter2' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/GOVAUTH_METRICS_TOKEN=\(hidden, 14 characters\): must be at least 32 characters/);
    expect(message).not.toContain('hunter2');
    expect(() => loadConfig({ GOVAUTH_METRICS_TOKEN: `${'a'.repeat(40)} b` })).toThrow(/GOVAUTH_METRICS_TOKEN=\(hidden, 42 characters\): must be a bearer token/);
  });
});
