// Suspicious use of a client's credential, visible without anyone reading logs (SECURITY.md,
// "A leaked client credential"): a token obtained from a source network the client never used
// (`client.new_network`), and a minute in which its token rate passes its own baseline
// (`client.rate_anomaly`, rate-baseline.ts). Each is an audit record, a metric and a log line.
//
// Told of every issued token after its audit record is durable (src/oidc/token-audit.ts), it
// never delays or fails issuance: `observe` is synchronous, work that needs the database runs
// in the background, and a failure is logged. A known (client, network) pair is answered from
// memory, so the common token costs no query: a pair costs one query per process, and one
// write when it is new (plus a last-seen update at most hourly).
import type { AuditInput } from '../db/audit-record.ts';
import type { NotificationEvent } from '../notifications/notification-event.ts';
import type { ClientNetworks } from '../db/client-networks.ts';
import type { SuspiciousUseConfig } from '../config/suspicious-use-config.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../time/clock.ts';
import { createRateBaselines } from './rate-baseline.ts';
import { sourceNetwork } from './source-network.ts';

/** A token issued to an authenticated client (public clients have no credential to leak). */
export interface TokenUse {
  readonly clientId: string;
  /** The client address as govauth decides it (ctx.ip, src/http/request-context.ts). */
  readonly ip: string;
  readonly grantType: string | undefined;
  readonly requestId: string;
}

export interface SuspiciousUse {
  observe(use: TokenUse): void;
  /** Resolves when the background work started so far is over (shutdown, tests). */
  settled(): Promise<void>;
}

export interface SuspiciousUseDeps {
  readonly config: SuspiciousUseConfig;
  readonly networks: ClientNetworks;
  /** Appends an audit record (the audit writer's record). */
  readonly record: (input: AuditInput) => Promise<void>;
  /** The metrics (src/metrics/metrics.ts has both). */
  readonly signals: {
    clientNewNetwork(clientId: string, firstUse: boolean): void;
    clientRateAnomaly(clientId: string): void;
  };
  /** Sends a notification (the webhook outbox, notification-event.ts emitNotification); never throws. */
  readonly notify?: (event: NotificationEvent) => void;
  readonly log: Logger;
  readonly now: Clock;
  /** This instance's id in the instance registry (what `govauth` commands name), once registered. */
  readonly instance?: () => string | undefined;
}

/** Pairs remembered per process; beyond it the oldest is forgotten and costs one query when used again. */
const MAX_KNOWN_PAIRS = 100_000;
/** How stale a pair's lastSeenAt may get: one write per pair and process per hour, not per token. */
const LAST_SEEN_EVERY_MS = 3600_000;

export function createSuspiciousUse(deps: SuspiciousUseDeps): SuspiciousUse {
  const { config, networks, log, now } = deps;
  /** "client network" → when this process last wrote its lastSeenAt (epoch ms). */
  const known = new Map<string, number>();
  const checking = new Set<string>();
  /** Each client's last address and its network (one entry per authenticated client). */
  const lastAddress = new Map<string, { ip: string; network: string; key: string }>();
  const inFlight = new Set<Promise<void>>();
  const baselines = createRateBaselines({ multiplier: config.rateMultiplier, floor: config.rateFloor, cooldownMs: config.rateCooldownSeconds * 1000 });

  const background = (work: Promise<void>): void => {
    const p = work.catch((err: unknown) => log.error('suspicious-use check failed; the token was issued', { err: (err as Error).message }));
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  const remember = (key: string, at: number): void => {
    if (known.size >= MAX_KNOWN_PAIRS && !known.has(key)) known.delete(known.keys().next().value as string);
    known.set(key, at);
  };

  /** Decides, once across every instance, whether the pair is new; records it if so. */
  async function checkNetwork(use: TokenUse, network: string, key: string, at: number): Promise<void> {
    if (await networks.known(use.clientId, network)) {
      await networks.seen(use.clientId, network, new Date(at));
    } else if (await networks.add(use.clientId, network, new Date(at))) {
      let firstUse: boolean;
      try {
        // Its only row: the client's first network ever, recorded but not suspicious. Two first
        // networks added at the same instant by two instances both count as new: the safe side.
        firstUse = (await networks.count(use.clientId)) === 1;
        await deps.record({
          action: 'client.new_network',
          actorType: 'client',
          actor: use.clientId,
          subject: use.clientId,
          clientId: use.clientId,
          ip: use.ip,
          requestId: use.requestId,
          detail: { client_id: use.clientId, network, grant_type: use.grantType, first_use: firstUse },
        });
      } catch (err) {
        // Without its record the pair must not count as known: the next token tries again.
        await networks.remove(use.clientId, network).catch(() => undefined);
        throw err;
      }
      deps.signals.clientNewNetwork(use.clientId, firstUse);
      if (firstUse) log.info('client used its first source network', { clientId: use.clientId, network });
      else {
        log.warn('client obtained a token from a new source network', { clientId: use.clientId, network, requestId: use.requestId });
        // Only the suspicious case is pushed: a client's first network is routine.
        deps.notify?.({ type: 'client.new_network', data: { client_id: use.clientId, network, grant_type: use.grantType }, occurredAt: at });
      }
    }
    // Another instance recorded it first (add was false): known, and recorded once.
    remember(key, at);
  }

  function watchNetwork(use: TokenUse, at: number): void {
    // A client usually calls from the address it used last: its network is not computed again.
    let last = lastAddress.get(use.clientId);
    if (last?.ip !== use.ip) {
      const network = sourceNetwork(use.ip, config);
      if (network === undefined) return; // not an address (a misconfigured proxy header): nothing to compare
      last = { ip: use.ip, network, key: `${use.clientId} ${network}` };
      lastAddress.set(use.clientId, last);
    }
    const { network, key } = last;
    const lastWritten = known.get(key);
    if (lastWritten !== undefined) {
      if (at - lastWritten < LAST_SEEN_EVERY_MS) return; // the common token: memory only
      known.set(key, at);
      background(networks.seen(use.clientId, network, new Date(at)));
      return;
    }
    if (checking.has(key)) return; // a burst from a new network is checked once
    checking.add(key);
    background(checkNetwork(use, network, key, at).finally(() => checking.delete(key)));
  }

  function watchRate(use: TokenUse, at: number): void {
    const anomaly = baselines.count(use.clientId, at);
    if (!anomaly) return;
    const baseline = Math.round(anomaly.baseline * 100) / 100;
    deps.signals.clientRateAnomaly(use.clientId);
    log.warn("client's token rate passed its baseline", { clientId: use.clientId, observedPerMinute: anomaly.observed, baselinePerMinute: baseline });
    deps.notify?.({ type: 'client.rate_anomaly', data: { client_id: use.clientId, grant_type: use.grantType, instance: deps.instance?.() ?? null, observed_per_minute: anomaly.observed, baseline_per_minute: baseline }, occurredAt: at });
    background(
      deps.record({
        action: 'client.rate_anomaly',
        actorType: 'client',
        actor: use.clientId,
        subject: use.clientId,
        clientId: use.clientId,
        ip: use.ip,
        requestId: use.requestId,
        detail: {
          client_id: use.clientId,
          grant_type: use.grantType,
          // Counted by this instance only (README "Suspicious use": several instances).
          instance: deps.instance?.(),
          observed_per_minute: anomaly.observed,
          baseline_per_minute: baseline,
          multiplier: config.rateMultiplier,
          floor: config.rateFloor,
          cooldown_seconds: config.rateCooldownSeconds,
        },
      }),
    );
  }

  return {
    observe(use) {
      const at = now();
      try {
        if (config.networks) watchNetwork(use, at);
        if (config.rate) watchRate(use, at);
      } catch (err) {
        log.error('suspicious-use check failed; the token was issued', { err: (err as Error).message });
      }
    },
    async settled() {
      while (inFlight.size) await Promise.all([...inFlight]);
    },
  };
}
