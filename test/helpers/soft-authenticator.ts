// A software WebAuthn authenticator for tests that forge ceremonies over HTTP: an ES256 key
// made with node:crypto, "none" attestation, and every field a hostile client controls left
// open to override (origin, RP id, challenge, type, flags, signature counter). Encodings per
// WebAuthn L3 §6.1 (authenticator data), §6.5.1 (attested credential data), RFC 9052 §7 (COSE
// key) and RFC 8949 (CBOR, the few major types needed here).
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

const b64u = (b: Uint8Array | string): string => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array | string): Buffer => createHash('sha256').update(b).digest();

type Cbor = number | string | Uint8Array | Map<Cbor, Cbor> | { [k: string]: Cbor };

function head(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 256) return Buffer.from([(major << 5) | 24, n]);
  if (n < 65536) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(n, 1);
  return b;
}

function cbor(v: Cbor): Buffer {
  if (typeof v === 'number') return v >= 0 ? head(0, v) : head(1, -1 - v);
  if (typeof v === 'string') return Buffer.concat([head(3, Buffer.byteLength(v)), Buffer.from(v)]);
  if (v instanceof Uint8Array) return Buffer.concat([head(2, v.length), Buffer.from(v)]);
  const entries: [Cbor, Cbor][] = v instanceof Map ? [...v.entries()] : Object.entries(v);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, x]) => [cbor(k), cbor(x)])]);
}

export const FLAG = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 } as const;

export interface CeremonyOverrides {
  origin?: string;
  rpId?: string;
  challenge?: string;
  type?: string;
  flags?: number;
  counter?: number;
}

export class SoftAuthenticator {
  readonly credentialId = randomBytes(32);
  readonly #key: KeyObject;
  readonly #cose: Buffer;
  counter = 0;
  readonly origin: string;
  readonly rpId: string;
  readonly flags: number;
  constructor(origin: string, rpId: string, flags: number = FLAG.UP | FLAG.UV) {
    this.origin = origin;
    this.rpId = rpId;
    this.flags = flags;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.#key = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    // COSE_Key: kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y.
    this.#cose = cbor(new Map<Cbor, Cbor>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x ?? '', 'base64url')], [-3, Buffer.from(jwk.y ?? '', 'base64url')]]));
  }

  get id(): string {
    return b64u(this.credentialId);
  }

  #authData(o: CeremonyOverrides, flags: number, attested?: Buffer): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(o.counter ?? this.counter);
    return Buffer.concat([sha256(o.rpId ?? this.rpId), Buffer.from([flags]), count, ...(attested ? [attested] : [])]);
  }

  #clientData(type: string, challenge: string, o: CeremonyOverrides): Buffer {
    return Buffer.from(JSON.stringify({ type: o.type ?? type, challenge: o.challenge ?? challenge, origin: o.origin ?? this.origin, crossOrigin: false }));
  }

  /** A registration response (navigator.credentials.create) to options with `challenge`. */
  register(challenge: string, o: CeremonyOverrides = {}): Record<string, unknown> {
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, this.credentialId, this.#cose]);
    const authData = this.#authData(o, (o.flags ?? this.flags) | FLAG.AT, attested);
    const attestationObject = cbor({ fmt: 'none', attStmt: {}, authData });
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64u(this.#clientData('webauthn.create', challenge, o)), attestationObject: b64u(attestationObject), transports: ['internal'] },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** An assertion (navigator.credentials.get); the counter moves on unless `o.counter` is given. */
  assert(challenge: string, userHandle: string | undefined, o: CeremonyOverrides = {}): Record<string, unknown> {
    if (o.counter === undefined) this.counter += 1;
    const authData = this.#authData(o, o.flags ?? this.flags);
    const clientData = this.#clientData('webauthn.get', challenge, o);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.#key); // DER ECDSA, as authenticators sign
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64u(clientData), authenticatorData: b64u(authData), signature: b64u(signature), ...(userHandle && { userHandle }) },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}
