// The peer authorization server (bench/peer/better-auth/server.ts): better-auth with its OAuth
// 2.1 provider plugin, installed in its own folder so govauth's dependencies stay lean. This
// module checks the install, starts the server on a fresh SQLite file, and describes its load.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { basicAuth, FORM, type LoadOptions } from './load.ts';
import { startChild, type Child } from './processes.ts';

const folder = fileURLToPath(new URL('../peer/better-auth/', import.meta.url));
const INSTALL_HINT = 'npm ci --prefix bench/peer/better-auth';

/** What the peer printed when ready: where to ask, whom to be, and how to check its tokens. */
export interface PeerInfo {
  readonly tokenUrl: string;
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly resource: string;
  readonly client_id: string;
  readonly client_secret: string;
}

export interface Peer {
  readonly child: Child;
  readonly info: PeerInfo;
  /** The pinned versions actually installed, e.g. { 'better-auth': '1.7.29', … }. */
  readonly versions: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * The installed version of every dependency bench/peer/better-auth/package.json pins; throws,
 * with the install command, when one is missing or differs from its pin.
 */
export function peerVersions(): Record<string, string> {
  const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const versions: Record<string, string> = {};
  for (const [name, pinned] of Object.entries(manifest.dependencies)) {
    const installed = join(folder, 'node_modules', name, 'package.json');
    if (!existsSync(installed)) throw new Error(`the peer server is not installed (${name} missing): run \`${INSTALL_HINT}\``);
    const { version } = JSON.parse(readFileSync(installed, 'utf8')) as { version: string };
    if (version !== pinned) throw new Error(`the peer server's ${name} is ${version}, pinned ${pinned}: run \`${INSTALL_HINT}\``);
    versions[name] = version;
  }
  return versions;
}

/** Starts the peer as it would be deployed (NODE_ENV=production) on a fresh SQLite file. */
export async function startPeer(): Promise<Peer> {
  const versions = peerVersions();
  const dataDir = mkdtempSync(join(tmpdir(), 'peer-better-auth-'));
  try {
    const child = await startChild(join(folder, 'server.ts'), { NODE_ENV: 'production', PEER_DATABASE: join(dataDir, 'auth.db') }, /peer ready (\{.*\})\n/);
    return {
      child,
      info: JSON.parse(child.url) as PeerInfo,
      versions,
      async stop() {
        await child.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** The same request govauth gets: client_credentials, HTTP Basic (RFC 6749 §2.3.1), one resource (RFC 8707). */
export function peerTokenRequest(info: PeerInfo, connections: number): LoadOptions {
  return {
    url: info.tokenUrl,
    method: 'POST',
    headers: { ...FORM, authorization: basicAuth(info.client_id, info.client_secret) },
    body: `grant_type=client_credentials&resource=${encodeURIComponent(info.resource)}`,
    connections,
  };
}
