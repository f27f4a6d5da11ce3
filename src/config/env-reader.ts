// How loadConfig reads one variable: unset or empty takes the default, and a bad value becomes a
// problem (with its fix) instead of an exception, so every invalid variable is reported together.
import { EnvValueError } from './env-parsers.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export type Read = <T>(name: string, fallback: T, parse: (raw: string) => T) => T;

/** `problems` collects one line per bad variable, in the order they are read. */
export function createEnvReader(env: Env): { read: Read; problems: string[] } {
  const problems: string[] = [];
  const read = <T>(name: string, fallback: T, parse: (raw: string) => T): T => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    try {
      return parse(raw);
    } catch (err) {
      if (!(err instanceof EnvValueError)) throw err;
      problems.push(`${name}=${shownValue(name, raw)}: ${err.message}`);
      return fallback;
    }
  };
  return { read, problems };
}

/**
 * How a bad value is quoted back: never a secret (the master key; a database password), since
 * start-up errors land in logs that many people read.
 */
function shownValue(name: string, raw: string): string {
  if (name === 'GOVAUTH_MASTER_KEY' || name === 'GOVAUTH_METRICS_TOKEN' || name === 'GOVAUTH_WEBHOOK_SECRET') return `(hidden, ${raw.length} characters)`;
  // A webhook's path or query often is its secret: show where it points, not the rest.
  if (name === 'GOVAUTH_AUDIT_CHECKPOINT_WEBHOOK' || name === 'GOVAUTH_WEBHOOK_URL') return URL.parse(raw.trim())?.origin.concat('/…') ?? `(hidden, ${raw.length} characters)`;
  let shown = raw;
  // OTLP endpoints are refused with credentials (they belong in OTEL_EXPORTER_OTLP_HEADERS), and
  // the refusal must not print them.
  if (name === 'DATABASE_URL' || name.startsWith('OTEL_EXPORTER_OTLP_')) {
    const url = URL.parse(raw);
    if (url?.password) {
      url.password = '***';
      shown = url.href;
    } else if (!url && raw.includes('@')) {
      return '(hidden: not a URL, and it may hold a password)';
    }
  }
  return JSON.stringify(shown.length > 80 ? `${shown.slice(0, 80)}…` : shown);
}
