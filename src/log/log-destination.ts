// The server process's log destination: standard output, warn and error on standard error,
// written asynchronously (pino's sonic-boom) so a busy server does not block its event loop on
// a write(2) per request line; lines written while a write is in flight go out together.
//
// Nothing is lost at exit: pino registers each asynchronous destination with on-exit-leak-free,
// which writes what is still buffered synchronously on process 'exit' (every process.exit() in
// main.ts and cluster.ts, an uncaught exception) and on 'beforeExit' (test/integration/
// log-flush.test.ts). A SIGKILL can still lose the lines of the last write in flight.
import pino, { type DestinationStream } from 'pino';

export function processLogDestination(): DestinationStream {
  return pino.multistream(
    [
      { level: 'debug', stream: pino.destination({ dest: 1, sync: false }) },
      { level: 'warn', stream: pino.destination({ dest: 2, sync: false }) },
    ],
    { dedupe: true },
  );
}
