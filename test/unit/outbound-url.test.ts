// The rules for URLs the server fetches on someone else's say (src/governance/outbound-url.ts),
// and its special-use ranges held to oidc-provider's connection check (the same answers).
import { isSpecialUseIP } from 'oidc-provider/lib/helpers/fetch_request.js';
import { describe, expect, it } from 'vitest';
import { isSpecialUseAddress, outboundUrlProblem } from '../../src/governance/outbound-url.ts';

const strict = { allowPrivate: false };
const allowance = { allowPrivate: true };

describe('outboundUrlProblem', () => {
  it('accepts a public https URL, with a port, path and query', () => {
    for (const url of ['https://keys.example.com/jwks.json', 'https://keys.example.com:8443/a/b?c=d', 'https://8.8.8.8/jwks', 'https://[2606:4700::1111]/jwks']) {
      expect(outboundUrlProblem(url, strict), url).toBeUndefined();
    }
  });

  it.each([
    ['http://keys.example.com/jwks.json', 'must use https'],
    ['ftp://keys.example.com/jwks.json', 'must use https'],
    ['file:///etc/passwd', 'must use https'],
    ['//keys.example.com/jwks.json', 'is not an absolute URL'],
    ['https://user@keys.example.com/', 'must not contain credentials'],
    ['https://:pw@keys.example.com/', 'must not contain credentials'],
    ['https://keys.example.com/#', 'must not contain a fragment'],
    ['https://10.1.2.3/', 'special-use address (10.1.2.3)'],
    ['https://172.16.0.1/', 'special-use address'],
    ['https://192.168.1.1/', 'special-use address'],
    ['https://100.64.0.1/', 'special-use address'],
    ['https://169.254.169.254/latest/meta-data/', 'special-use address (169.254.169.254)'],
    ['https://0.0.0.0/', 'special-use address'],
    ['https://2130706433/', 'special-use address (127.0.0.1)'],
    ['https://0177.0.0.1/', 'special-use address (127.0.0.1)'],
    ['https://[::1]/', 'special-use address ([::1])'],
    ['https://[::]/', 'special-use address'],
    ['https://[fd00::1]/', 'special-use address'],
    ['https://[fe80::1]/', 'special-use address'],
    ['https://[::ffff:169.254.169.254]/', 'special-use address'],
    ['https://[::ffff:a9fe:a9fe]/', 'special-use address'],
    ['https://localhost/', 'must not point at the local host'],
    ['https://LOCALHOST/', 'must not point at the local host'],
    ['https://api.localhost/', 'must not point at the local host'],
    ['https://localhost./', 'must not point at the local host'],
  ])('refuses %s', (url, message) => {
    expect(outboundUrlProblem(url, strict)).toContain(message);
  });

  it('with the development allowance, private hosts pass; https, credentials and fragments are still checked', () => {
    expect(outboundUrlProblem('https://127.0.0.1:8443/jwks', allowance)).toBeUndefined();
    expect(outboundUrlProblem('https://localhost/jwks', allowance)).toBeUndefined();
    expect(outboundUrlProblem('http://127.0.0.1/jwks', allowance)).toContain('must use https');
    expect(outboundUrlProblem('https://u:p@127.0.0.1/jwks', allowance)).toContain('credentials');
  });
});

describe('isSpecialUseAddress', () => {
  const addresses = [
    '0.0.0.0', '0.255.1.1', '1.1.1.1', '8.8.8.8', '9.255.255.255', '10.0.0.1', '11.0.0.1', '100.63.255.255', '100.64.0.1', '100.127.255.255', '100.128.0.0',
    '126.255.255.255', '127.0.0.1', '127.255.255.254', '128.0.0.1', '169.253.255.255', '169.254.169.254', '169.255.0.0', '172.15.255.255', '172.16.0.1',
    '172.31.255.255', '172.32.0.0', '192.0.0.8', '192.0.1.1', '192.0.2.1', '192.31.196.1', '192.52.193.1', '192.88.99.1', '192.167.255.255', '192.168.0.1',
    '192.175.48.1', '198.17.255.255', '198.18.0.1', '198.19.255.255', '198.20.0.0', '198.51.100.1', '203.0.113.1', '203.0.114.1', '223.255.255.255',
    '240.0.0.1', '255.255.255.255',
    '::', '::1', '::2', '::ffff:127.0.0.1', '::ffff:8.8.8.8', '64:ff9b::1', '64:ff9b:1::1', '100::1', '100:0:0:1::1', '2001::1', '2001:1ff::1', '2001:200::1',
    '2001:db8::1', '2002::1', '2606:4700::1111', '2620:4f:8000::1', '3fff::1', '3fff:1000::1', '5f00::1', 'fc00::1', 'fdff::1', 'fe80::1', 'febf::1', 'fec0::1',
  ];
  it('answers as oidc-provider’s connection check does (multicast 224/4 and ff00::/8 refused as well)', () => {
    for (const address of addresses) expect(isSpecialUseAddress(address), address).toBe(isSpecialUseIP(address));
    for (const address of ['224.0.0.1', '239.255.255.250', 'ff02::1']) expect(isSpecialUseAddress(address), address).toBe(true);
  });

  it('takes bracketed IPv6 and says false for names', () => {
    expect(isSpecialUseAddress('[::1]')).toBe(true);
    expect(isSpecialUseAddress('keys.example.com')).toBe(false);
  });
});
