// RFC 8705 §2.1.2 subject matching and the per-request trust decision, on certificates made by
// openssl (test-pki.ts).
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCertificateTrust, parseCertificates, sanMatches, subjectDnMatches } from '../../src/governance/client-certificates.ts';
import { createTestPki, type TestPki } from '../helpers/test-pki.ts';

let pki: TestPki;
let escaped: X509Certificate;
beforeAll(() => {
  pki = createTestPki();
  escaped = new X509Certificate(pki.issue('escaped', '/O=Example/CN=bot\\, inc', 'Bot.Example').cert);
});

describe('subject matching', () => {
  it('compares the DN in RFC 4514 order, escapes kept, attribute types case-insensitive', () => {
    expect(subjectDnMatches(escaped, 'CN=bot\\, inc,O=Example')).toBe(true);
    expect(subjectDnMatches(escaped, 'cn=bot\\, inc, o=Example')).toBe(true);
    expect(subjectDnMatches(escaped, 'O=Example,CN=bot\\, inc')).toBe(false);
    expect(subjectDnMatches(escaped, 'CN=bot\\, inc')).toBe(false);
    expect(subjectDnMatches(escaped, 'CN=bot,O=Example')).toBe(false);
  });

  it('matches a DNS SAN case-insensitively and only of the registered kind', () => {
    expect(sanMatches(escaped, 'dns', 'bot.example')).toBe(true);
    expect(sanMatches(escaped, 'uri', 'Bot.Example')).toBe(false);
    expect(sanMatches(escaped, 'dns', 'other.example')).toBe(false);
  });
});

describe('trust', () => {
  it('accepts a certificate its configured CA issued, within validity, and nothing else', () => {
    const trust = createCertificateTrust(parseCertificates(readFileSync(pki.caFile, 'utf8')));
    const now = Date.now();
    expect(trust.authorized(escaped, now)).toBe(true);
    expect(trust.authorized(escaped, now + 11 * 86_400_000)).toBe(false);
    expect(trust.authorized(new X509Certificate(pki.selfSigned('self', '/O=Example/CN=bot').cert), now)).toBe(false);
    expect(createCertificateTrust([]).authorized(escaped, now)).toBe(false);
  });
});
