// Periodic signed checkpoints (GOVAUTH_AUDIT_CHECKPOINT_EVERY): each period one instance signs
// the chain's head and sends the JWS out of the database's reach, to a file (one JWS per line,
// appended) and/or a webhook (POST, application/jose: RFC 7515 §9.2.1). Every instance ticks;
// takeCheckpoint decides under the chain's lock, from the last periodic `audit.checkpoint`
// record, whether this period's checkpoint was already taken, so exactly one instance writes it.
import { appendFile } from 'node:fs/promises';
import type { AuditCheckpointConfig } from '../config/audit-checkpoint-config.ts';
import type { Database } from '../db/database.ts';
import type { MasterKey } from '../keys/master-key.ts';
import type { Logger } from '../log/logger.ts';
import { takeCheckpoint, type SignedCheckpoint } from './audit-checkpoint.ts';

const PERIODIC_ACTOR = 'periodic-checkpoint';
const WEBHOOK_ATTEMPTS = 3;
const WEBHOOK_TIMEOUT_MS = 5000;

async function postWebhook(url: string, cp: SignedCheckpoint, log: Logger, retryDelayMs: number): Promise<void> {
  for (let attempt = 1; attempt <= WEBHOOK_ATTEMPTS; attempt++) {
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/jose' }, body: cp.jws, signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS), redirect: 'error' });
      if (res.ok) return;
      log.warn('audit checkpoint webhook refused the checkpoint', { status: res.status, attempt, seq: cp.seq });
    } catch (err) {
      log.warn('audit checkpoint webhook unreachable', { err: (err as Error).message, attempt, seq: cp.seq });
    }
    if (attempt < WEBHOOK_ATTEMPTS) await new Promise((r) => setTimeout(r, retryDelayMs * 2 ** (attempt - 1)));
  }
  // Bounded: the checkpoint stays in the file (if any) and its record in the chain.
  log.error('audit checkpoint not delivered to the webhook after retries', { seq: cp.seq, attempts: WEBHOOK_ATTEMPTS });
}

export interface CheckpointWriter {
  /** One tick: takes and delivers this period's checkpoint unless another instance did. */
  tick(): Promise<SignedCheckpoint | undefined>;
  close(): Promise<void>;
}

export function startCheckpointWriter(deps: { db: Database; master: MasterKey; config: AuditCheckpointConfig; issuer: string; log: Logger; now: () => number; retryDelayMs?: number }): CheckpointWriter {
  const { config, log } = deps;
  let running: Promise<unknown> = Promise.resolve();
  const tick = async (): Promise<SignedCheckpoint | undefined> => {
    // A little under a period: instances whose timers drift apart still write one per period.
    const cp = await takeCheckpoint(deps.db, deps.master, { issuer: deps.issuer, by: { actorType: 'system', actor: PERIODIC_ACTOR }, now: deps.now(), skipIfWithinMs: config.everyMs * 0.9 });
    if (!cp) return undefined;
    if (config.file) await appendFile(config.file, `${cp.jws}\n`, { mode: 0o644 });
    if (config.webhook) await postWebhook(config.webhook, cp, log, deps.retryDelayMs ?? 1000);
    log.info('audit checkpoint taken', { seq: cp.seq, kid: cp.kid });
    return cp;
  };
  const timer = setInterval(() => {
    running = running.then(tick).catch((err: unknown) => log.warn('audit checkpoint failed; will retry next period', { err }));
  }, config.everyMs);
  timer.unref();
  return {
    tick: () => {
      const next = running.then(tick);
      running = next.catch(() => undefined);
      return next;
    },
    async close() {
      clearInterval(timer);
      await running;
    },
  };
}
