// The master key encrypts signing keys at rest and derives cookie keys. Production sets
// GOVAUTH_MASTER_KEY (load-config refuses to start without it); the embedded development
// default creates data/master.key (mode 0600) once and warns loudly, because anyone who can
// read that file next to the database can read every private key.
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config/load-config.ts';
import { parseKey32 } from '../config/env-parsers.ts';
import type { Logger } from '../log/logger.ts';

export class MasterKey {
  readonly #key: Buffer;
  constructor(key: Buffer) {
    if (key.length !== 32) throw new TypeError('master key must be 32 bytes');
    this.#key = Buffer.from(key);
  }
  /** A purpose-bound subkey (HKDF-SHA256, RFC 5869), so no two uses share key material. */
  derive(purpose: string, length = 32): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#key, Buffer.from('govauth'), Buffer.from(purpose), length));
  }
  /** A non-secret identifier of this key, stored to detect a wrong key at start. */
  fingerprint(): string {
    return createHmac('sha256', this.derive('fingerprint')).update('govauth master key').digest('base64url').slice(0, 22);
  }
}

export class MasterKeyError extends Error {}

export function loadMasterKey(source: Config['masterKey'], log: Logger, allowCreate: boolean): MasterKey {
  if ('key' in source) return new MasterKey(source.key);
  const { file } = source;
  let text: string | undefined;
  try {
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) log.warn(`master key file ${file} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${file}`);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new MasterKeyError(`cannot read master key file ${file}: ${(err as Error).message}`);
  }
  if (text === undefined) {
    if (!allowCreate) throw new MasterKeyError(`no master key: set GOVAUTH_MASTER_KEY or start the server once to create ${file}`);
    mkdirSync(dirname(file), { recursive: true });
    try {
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      log.warn(
        `DEVELOPMENT ONLY: created a master key in ${file}. It protects the signing keys in the database. ` +
          'In production set GOVAUTH_MASTER_KEY from a secret store and keep it out of the data directory.',
      );
    } catch (err) {
      // Another process created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    text = readFileSync(file, 'utf8');
  }
  try {
    return new MasterKey(parseKey32(text));
  } catch {
    throw new MasterKeyError(`master key file ${file} does not hold a 32-byte key (base64 or hex)`);
  }
}
