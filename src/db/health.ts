// How the database is doing, for readiness and metrics.
import type { Database } from './database.ts';
import type { RawSql } from './raw-sql.ts';

/** Connections of the plain-SQL seam's pool now (metrics). */
export const poolStats = (db: Pick<Database, 'sql'>): ReturnType<RawSql['poolStats']> => db.sql.poolStats();

/** Resolves true once the database answers a trivial query; rejects when it cannot. */
export async function databaseAnswers(db: Pick<Database, 'prisma'>): Promise<boolean> {
  await db.prisma.$queryRawUnsafe('SELECT 1');
  return true;
}
