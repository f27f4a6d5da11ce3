// The server process's log destination: standard output, warn and error on standard error,
// written asynchronously (pino's sonic-boom) so a busy server does not block its event loop on
// a write(2) per request line; lines written while a write is in flight go out together.
//
// Nothing is lost at exit: pino registers each asynchronous destination with on-exit-leak-free,
// which writes what is still buffered synchronously on process 'exit' (every process.exit() in
// main.ts and cluster.ts, an uncaught exception) and on 'beforeExit' (test/integration/
// log-flush.test.ts). A SIGKILL can still lose the lines of the last write in flight.
//
// If whatever reads the output stalls, lines wait in memory up to MAX_BUFFERED bytes and are
// dropped beyond that: an authorization server that keeps answering beats one that blocks on
// its log (the old synchronous writes) or runs out of memory.
import pino, { type DestinationStream } from 'pino';

const MAX_BUFFERED = 32 * 1024 * 1024;

export function processLogDestination(): DestinationStream {
  return pino.multistream(
    [
      { level: 'debug', stream: pino.destination({ dest: 1, sync: false, maxLength: MAX_BUFFERED }) },
      { level: 'warn', stream: pino.destination({ dest: 2, sync: false, maxLength: MAX_BUFFERED }) },
    ],
    { dedupe: true },
  );
}
