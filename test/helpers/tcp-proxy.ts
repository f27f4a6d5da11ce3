// A TCP proxy in front of the database, to cut it off and bring it back mid-test without
// touching the real server (other test files use it concurrently).
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpProxy {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  port = 0;
  readonly targetHost: string;
  readonly targetPort: number;
  constructor(targetHost: string, targetPort: number) {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
  }

  async start(port = 0): Promise<number> {
    this.#server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      this.#server?.once('error', reject);
      this.#server?.listen(port, '127.0.0.1', () => resolve());
    });
    const address = this.#server.address();
    this.port = typeof address === 'object' && address ? address.port : port;
    return this.port;
  }

  /** The database "goes away": open connections die, new ones are refused. */
  async cut(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    this.#server = undefined;
  }

  restore(): Promise<number> {
    return this.#server ? Promise.resolve(this.port) : this.start(this.port);
  }

  close(): Promise<void> {
    return this.cut();
  }
}
