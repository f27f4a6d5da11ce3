// Structured JSON-lines logger on pino: one line per event,
// {"level":"info","time":"<ISO 8601>",<bound fields>,"msg":"…",<fields>}. Callers pass ids,
// never tokens or passwords, and pino's redaction (redaction.ts) enforces that where every line
// is written. Lines go to standard output, warn and error to standard error (log-destination.ts).
import pino, { type DestinationStream } from 'pino';
import { REDACTED, REDACT_PATHS } from './redaction.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose every line carries `fields` too (a worker id, a request id, a trace id). */
  child(fields: Record<string, unknown>): Logger;
  /** Whether a line at `level` would be written (to skip building costly fields). */
  enabled(level: Exclude<LogLevel, 'silent'>): boolean;
}

export interface LoggerOptions {
  level: LogLevel;
  /**
   * Where lines go (anything with `write(line)`; each call is one line ending in "\n").
   * Default: synchronous standard output, warn and error on standard error. The server process
   * passes the asynchronous one from log-destination.ts.
   */
  destination?: DestinationStream;
  base?: Record<string, unknown>;
}

/**
 * Errors keep what an operator needs (type, message, code, stack: logs may hold stacks, clients
 * never see them: http/error-boundary.ts) and nothing else: pino's own serializer would also copy
 * every enumerable property, and a driver error's properties can echo query parameters.
 */
function serializeError(err: Error): Record<string, unknown> {
  const s = pino.stdSerializers.err(err);
  const code = (err as { code?: unknown }).code;
  return { type: s.type, message: s.message, ...((typeof code === 'string' || typeof code === 'number') && { code }), stack: s.stack };
}

/** Every field holding an Error, not only `err` (the old logger's rule, kept). */
function withSerializedErrors(obj: Record<string, unknown>): Record<string, unknown> {
  for (const key in obj) {
    const value = obj[key];
    if (value instanceof Error) obj[key] = serializeError(value);
  }
  return obj;
}

function syncStdio(): DestinationStream {
  return pino.multistream(
    [
      { level: 'debug', stream: pino.destination({ dest: 1, sync: true }) },
      { level: 'warn', stream: pino.destination({ dest: 2, sync: true }) },
    ],
    { dedupe: true },
  );
}

const noop = (): void => {};

function wrap(p: pino.Logger<never, boolean>): Logger {
  // The level is fixed for the life of the process: a disabled level costs one call to a no-op,
  // not the object it would have logged.
  const at = (level: Exclude<LogLevel, 'silent'>): ((msg: string, fields?: Record<string, unknown>) => void) =>
    p.isLevelEnabled(level) ? (msg, fields) => p[level](fields ? { msg, ...fields } : { msg }) : noop;
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => wrap(p.child(fields)),
    enabled: (level) => p.isLevelEnabled(level),
  };
}

export function createLogger(options: LoggerOptions): Logger {
  const p = pino(
    {
      level: options.level,
      base: options.base ?? null, // no pid/hostname: the process manager knows them
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (bindings) => withSerializedErrors({ ...bindings }),
        log: withSerializedErrors,
      },
      // formatters.log has already turned Errors into plain objects; pino's default `err`
      // serializer would copy those again, named "Object".
      serializers: { err: (value: unknown) => (value instanceof Error ? serializeError(value) : value) },
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    },
    options.destination ?? syncStdio(),
  );
  return wrap(p);
}

export const silentLogger: Logger = createLogger({ level: 'silent', destination: { write: noop } });
