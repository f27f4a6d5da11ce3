// Is this error the database being unreachable or overloaded (answer 503 and let the client
// retry), rather than a bug (500)? Connection failures from pg and libsql, Prisma's
// connectivity codes, pool and lock timeouts.
const CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN', 'P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028']);
// PostgreSQL SQLSTATE classes 08 (connection exception) and 57P (operator intervention), 53300.
const SQLSTATE = /^(08...|57P0[1-3]|53300)$/;
const MESSAGES = [
  /Can't reach database server/i,
  /Connection terminated/i,
  /connection (is )?(closed|refused|reset)/i,
  /timeout exceeded when trying to connect/i,
  /Operation has timed out/i,
  /SQLITE_BUSY|database is locked/i,
  /SQLITE_(IOERR|CANTOPEN|FULL|READONLY)/i,
  /Client has encountered a connection error/i,
  /server closed the connection unexpectedly/i,
];

export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (CODES.has(code) || SQLSTATE.test(code))) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && MESSAGES.some((m) => m.test(message))) return true;
  }
  return false;
}
