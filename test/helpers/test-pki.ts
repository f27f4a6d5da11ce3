// A throwaway PKI for mutual TLS tests, made with Debian's openssl: a client CA, certificates it
// issues, a self-signed certificate outside it, and a server certificate for localhost.
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pem {
  readonly cert: string;
  readonly key: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** RFC 8705 §3.1 x5t#S256: base64url SHA-256 of the DER certificate. */
  readonly thumbprint: string;
  /** RFC 9440 Client-Cert header value: the DER certificate as a structured-field byte sequence. */
  readonly header: string;
  /** RFC 8705 §2.2: the public JWK Set registering this certificate (its key's JWK with x5c), as a self_signed_tls_client_auth client gives it. */
  readonly jwks: { keys: Record<string, unknown>[] };
}

export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly server: Pem;
  issue(name: string, subject: string, sanDns: string): Pem;
  selfSigned(name: string, subject: string): Pem;
}

const openssl = (dir: string, ...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function pem(dir: string, name: string): Pem {
  const cert = readFileSync(join(dir, `${name}.pem`), 'utf8');
  const x509 = new X509Certificate(cert);
  return {
    cert,
    key: readFileSync(join(dir, `${name}.key`), 'utf8'),
    certFile: join(dir, `${name}.pem`),
    keyFile: join(dir, `${name}.key`),
    thumbprint: createHash('sha256').update(x509.raw).digest('base64url'),
    header: `:${x509.raw.toString('base64')}:`,
    jwks: { keys: [{ ...createPublicKey(cert).export({ format: 'jwk' }), kid: name, x5c: [x509.raw.toString('base64')] }] },
  };
}

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'govauth-pki-'));
  openssl(dir, 'req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', '/O=Example/CN=Example Client CA');
  openssl(dir, 'req', '-x509', ...EC, '-keyout', 'server.key', '-out', 'server.pem', '-days', '30', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    server: pem(dir, 'server'),
    issue(name, subject, sanDns) {
      openssl(dir, 'req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
      writeFileSync(join(dir, `${name}.ext`), `subjectAltName=DNS:${sanDns}\nextendedKeyUsage=clientAuth\n`);
      openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-days', '10', '-out', `${name}.pem`, '-extfile', `${name}.ext`);
      return pem(dir, name);
    },
    selfSigned(name, subject) {
      openssl(dir, 'req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '10', '-subj', subject);
      return pem(dir, name);
    },
  };
}
