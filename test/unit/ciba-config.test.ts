// GOVAUTH_CIBA*: OpenID CIBA is off unless turned on; its request lifetime and poll interval are
// bounded, and a value out of bounds stops the start with the variable named (src/config/ciba-config.ts).
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';

describe('CIBA configuration', () => {
  it('is off by default, with a 5-minute request and a 5-second poll interval', () => {
    expect(loadConfig({}).ciba).toEqual({ enabled: false, requestTtl: 300, pollInterval: 5, requestsPerMinute: 30 });
  });

  it('reads the switch and both bounds', () => {
    expect(loadConfig({ GOVAUTH_CIBA: 'true', GOVAUTH_CIBA_REQUEST_TTL: '3600', GOVAUTH_CIBA_POLL_INTERVAL: '1', GOVAUTH_CIBA_REQUESTS_PER_MINUTE: '0' }).ciba).toEqual({ enabled: true, requestTtl: 3600, pollInterval: 1, requestsPerMinute: 0 });
  });

  it('refuses values outside the bounds, naming the variable', () => {
    expect(() => loadConfig({ GOVAUTH_CIBA: 'maybe' })).toThrow(/GOVAUTH_CIBA="maybe": must be true or false/);
    expect(() => loadConfig({ GOVAUTH_CIBA_REQUEST_TTL: '29' })).toThrow(/GOVAUTH_CIBA_REQUEST_TTL="29": must be a whole number between 30 and 3600/);
    expect(() => loadConfig({ GOVAUTH_CIBA_REQUEST_TTL: '86400' })).toThrow(/GOVAUTH_CIBA_REQUEST_TTL/);
    expect(() => loadConfig({ GOVAUTH_CIBA_POLL_INTERVAL: '0' })).toThrow(/GOVAUTH_CIBA_POLL_INTERVAL="0": must be a whole number between 1 and 60/);
  });
});
