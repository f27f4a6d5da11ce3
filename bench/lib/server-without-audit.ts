// govauth in one process with the audit trail replaced by a writer that discards records: only
// for measuring what the audit trail costs (issue target: with it ≥ 0.8× without it). The
// server has no setting that turns auditing off; this entry exists only in bench/.
import { loadConfig } from '../../src/config/load-config.ts';
import type { AuditWriter } from '../../src/audit/audit-writer.ts';
import { createLogger } from '../../src/log/logger.ts';
import { processLogDestination } from '../../src/log/log-destination.ts';
import { startServer } from '../../src/server.ts';

const discard: AuditWriter = {
  record: () => Promise.resolve(),
  flush: () => Promise.resolve(),
  stats: { batches: 0, records: 0, largestBatch: 0 },
  close: () => Promise.resolve(),
};

const config = loadConfig(process.env);
// Logs as src/main.ts does, so the comparison measures the audit trail alone.
const log = createLogger({ level: config.logLevel, destination: processLogDestination() });
const server = await startServer(config, log, { audit: discard });
log.info('govauth ready (audit discarded)', { listening: server.url });
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
