// Client spans for govauth's plain-SQL seam (db/raw-sql.ts), which carries the request path's
// database work: oidc-provider's storage, rate-limit counters, the audit group commit. One
// span per statement and one per transaction (with its statements as children), named by the
// operation (OTel database semantic conventions: db.system.name, db.operation.name and the
// parameterized db.query.text, which holds `?` placeholders and never a value). Only inside a
// traced operation: the background polls would otherwise each be a trace of their own.
// Prisma's transactions get theirs in db/change-feed.ts (writeWithChanges); single Prisma
// queries (sign-in, admin reads) are not traced.
import { SpanKind } from '@opentelemetry/api';
import type { RawSql, RawTx } from './raw-sql.ts';
import type { Tracing } from '../tracing/tracing.ts';

const MAX_QUERY_TEXT = 1000;

const operationOf = (sql: string): string => /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? 'SQL';

export function traceRawSql(sql: RawSql, tracing: Tracing): RawSql {
  const system = sql.dialect.systemName;
  const statement = <T>(text: string, run: () => Promise<T>): Promise<T> => {
    const operation = operationOf(text);
    return tracing.inSpan(
      operation,
      {
        kind: SpanKind.CLIENT,
        onlyWithParent: true,
        attributes: { 'db.system.name': system, 'db.operation.name': operation, 'db.query.text': text.length > MAX_QUERY_TEXT ? `${text.slice(0, MAX_QUERY_TEXT)}…` : text },
      },
      run,
    );
  };
  const traced = (tx: RawTx): RawTx => ({
    query: (text, params) => statement(text, () => tx.query(text, params)),
    execute: (text, params) => statement(text, () => tx.execute(text, params)),
    time: (date) => tx.time(date),
  });
  return {
    ...traced(sql),
    dialect: sql.dialect,
    transaction: (work, options) =>
      tracing.inSpan(
        'transaction',
        { kind: SpanKind.CLIENT, onlyWithParent: true, attributes: { 'db.system.name': system, 'db.operation.name': 'transaction' } },
        () => sql.transaction((tx) => work(traced(tx)), options),
      ),
    close: () => sql.close(),
    poolStats: () => sql.poolStats(),
  };
}
