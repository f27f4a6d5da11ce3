// The logger (src/log/logger.ts): JSON lines, the configured level, bound fields, errors with
// their stack for operators, and the no-secrets rule enforced by redaction whatever a caller
// passes.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load-config.ts';
import { createLogger, type LogLevel } from '../../src/log/logger.ts';

function capture(level: LogLevel): { log: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[]; raw: () => string } {
  const chunks: string[] = [];
  const log = createLogger({ level, destination: { write: (s: string) => void chunks.push(s) } });
  const raw = (): string => chunks.join('');
  return { log, raw, lines: () => raw().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logger', () => {
  it('writes one JSON object per line: level name, ISO time, msg, then the fields', () => {
    const { log, raw, lines } = capture('debug');
    log.info('govauth ready', { listening: 'http://127.0.0.1:3000', workers: 2 });
    log.debug('second', { n: 1 });
    expect(raw().endsWith('\n')).toBe(true);
    expect(raw().split('\n').filter(Boolean)).toHaveLength(2);
    const [first] = lines();
    expect(first).toEqual({ level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown, msg: 'govauth ready', listening: 'http://127.0.0.1:3000', workers: 2 });
    // What operators grep for (and test/integration/cluster.test.ts matches): msg before fields.
    expect(raw()).toMatch(/"msg":"govauth ready".*"workers":2/);
  });

  it('drops lines below the configured level; silent writes nothing', () => {
    const warn = capture('warn');
    warn.log.debug('d');
    warn.log.info('i');
    warn.log.warn('w');
    warn.log.error('e');
    expect(warn.lines().map((l) => l.level)).toEqual(['warn', 'error']);
    expect(warn.log.enabled('info')).toBe(false);
    expect(warn.log.enabled('error')).toBe(true);
    const silent = capture('silent');
    silent.log.error('e');
    expect(silent.raw()).toBe('');
  });

  it('child loggers add bound fields to every line (a worker id, a trace id)', () => {
    const { log, lines } = capture('info');
    log.child({ worker: 3 }).child({ traceId: 'abc' }).info('hello', { x: 1 });
    expect(lines()[0]).toMatchObject({ worker: 3, traceId: 'abc', msg: 'hello', x: 1 });
  });

  it('logs an Error in any field with type, message, code and stack, and none of its other properties', () => {
    const { log, lines } = capture('info');
    const err = Object.assign(new TypeError('boom'), { code: 'E_BOOM', query: 'SELECT 1 WHERE secret = 42' });
    log.error('failed', { err, cause: new Error('inner') });
    const line = lines()[0] ?? {};
    expect(line.err).toEqual({ type: 'TypeError', message: 'boom', code: 'E_BOOM', stack: expect.stringContaining('TypeError: boom') as unknown });
    expect(line.cause).toMatchObject({ type: 'Error', message: 'inner' });
    expect(JSON.stringify(line)).not.toContain('secret = 42');
  });

  it('redacts secrets a caller passes by mistake: credentials, and headers, parameters and bodies logged whole', () => {
    const { log, raw, lines } = capture('debug');
    const secrets = ['Basic Ym90OnMzY3JldA==', 'sid=cookie-secret', 'hunter2-password', 'cs-client-secret', 'rt-refresh-token', 'ac-authorization-code', 'cv-code-verifier', 'eyJ.assertion.jwt'];
    log.warn('oops', {
      headers: { authorization: secrets[0], cookie: secrets[1], 'set-cookie': [secrets[1]] },
      password: secrets[2],
      params: { client_secret: secrets[3], refresh_token: secrets[4], code: secrets[5], code_verifier: secrets[6] },
      request: { body: { client_assertion: secrets[7] } },
      code: 3, // an exit code stays: `code` is only redacted as a request parameter
    });
    for (const s of secrets) expect(raw()).not.toContain(s);
    expect(lines()[0]).toMatchObject({ headers: { authorization: '[redacted]' }, password: '[redacted]', params: { code: '[redacted]' }, code: 3 });
  });
});

describe('logger cost', () => {
  it('an access-log line costs about what plain pino costs (redaction by static paths, not wildcards)', () => {
    const sink = { write: (): void => undefined };
    const fields = (): Record<string, unknown> => ({ requestId: 'aea32f97-c879-47b6-b191-5a4da0f8c541', method: 'POST', route: '/token', status: 200, durationMs: 4.2, clientId: 'cl_NbTWNWTGbuXwI-ygkWZhBQ', ip: '127.0.0.1', bytes: 1954 });
    const ours = createLogger({ level: 'info', destination: sink });
    const plain = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime }, sink);
    const time = (fn: () => void): number => {
      for (let i = 0; i < 2000; i++) fn();
      const started = performance.now();
      for (let i = 0; i < 20_000; i++) fn();
      return performance.now() - started;
    };
    // Interleaved runs, best of three each: the machine is shared and noisy.
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < 3; r++) {
      a.push(time(() => plain.info({ msg: 'request', ...fields() })));
      b.push(time(() => ours.info('request', fields())));
    }
    // Measured: ~1.0x with static paths; ~80x with the same fields under wildcard paths.
    expect(Math.min(...b) / Math.min(...a)).toBeLessThan(4);
  });
});

describe('GOVAUTH_ACCESS_LOG', () => {
  it('is on by default, can be turned off, and a value that is not a boolean is refused at start', () => {
    expect(loadConfig({}).accessLog).toBe(true);
    expect(loadConfig({ GOVAUTH_ACCESS_LOG: 'false' }).accessLog).toBe(false);
    expect(() => loadConfig({ GOVAUTH_ACCESS_LOG: 'sometimes' })).toThrow(ConfigError);
    expect(() => loadConfig({ GOVAUTH_ACCESS_LOG: 'sometimes' })).toThrow(/GOVAUTH_ACCESS_LOG="sometimes": must be true or false/);
  });
});
