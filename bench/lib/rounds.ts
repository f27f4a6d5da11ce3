// This machine's throughput moves by ±30% from one ten-second run to the next (other tenants,
// shared cores), so a ratio from one run of each server says little. We alternate short runs
// of the candidates, A B B A A B …, and report medians: each candidate sees the same spread of
// conditions, and the median ratio of adjacent runs is stable to a few percent.
import { formatTable, load, type LoadOptions, type LoadResult } from './load.ts';

export interface Candidate {
  readonly name: string;
  readonly options: LoadOptions;
  readonly rssMb?: () => number;
}

export interface RoundsResult {
  readonly results: Record<string, LoadResult & { rssMb: number }>;
  /** Median over rounds of (candidate rps / reference rps), per candidate. */
  readonly ratios: Record<string, number>;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

/** `onRun`, if given, sees every measured run as it ends (round numbers from 1). */
export async function alternate(candidates: readonly Candidate[], rounds: number, durationSec: number, onRun?: (round: number, result: LoadResult) => void): Promise<RoundsResult> {
  for (const c of candidates) await load(`${c.name} (warm-up)`, { ...c.options, durationSec: 2 });
  const runs = new Map<string, LoadResult[]>(candidates.map((c) => [c.name, []]));
  const perRoundRatio = new Map<string, number[]>(candidates.map((c) => [c.name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? candidates : [...candidates].reverse();
    const thisRound = new Map<string, LoadResult>();
    for (const c of order) {
      const r = await load(c.name, { ...c.options, durationSec });
      thisRound.set(c.name, r);
      runs.get(c.name)?.push(r);
      onRun?.(round + 1, r);
    }
    const reference = thisRound.get(candidates[0]?.name ?? '')?.rps ?? 1;
    for (const c of candidates) perRoundRatio.get(c.name)?.push((thisRound.get(c.name)?.rps ?? 0) / reference);
  }
  const results: RoundsResult['results'] = {};
  const ratios: Record<string, number> = {};
  for (const c of candidates) {
    const rs = runs.get(c.name) ?? [];
    results[c.name] = {
      name: c.name,
      rps: Math.round(median(rs.map((r) => r.rps))),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      requests: rs.reduce((a, r) => a + r.requests, 0),
      non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
      errors: rs.reduce((a, r) => a + r.errors, 0),
      rssMb: c.rssMb?.() ?? 0,
    };
    ratios[c.name] = median(perRoundRatio.get(c.name) ?? []);
  }
  return { results, ratios };
}

/**
 * The results as a table, each candidate's median ratio against the first one: "1.23× <versus>
 * (median of N rounds)", and `reference` on the first row.
 */
export function ratioTable(candidates: readonly Candidate[], outcome: RoundsResult, rounds: number, labels = { reference: 'baseline', versus: 'baseline' }): string {
  return formatTable(
    candidates.map((c, i) => ({
      ...outcome.results[c.name]!,
      ratio: i === 0 ? labels.reference : `${outcome.ratios[c.name]!.toFixed(2)}× ${labels.versus} (median of ${rounds} rounds)`,
    })),
  );
}

/**
 * Checks that every candidate answers 200, runs the alternating rounds and prints the table,
 * each candidate's ratio against the first one (the baseline).
 */
export async function compareWithBaseline(candidates: readonly Candidate[], rounds: number, durationSec: number): Promise<RoundsResult> {
  for (const c of candidates) {
    const probe = await fetch(c.options.url, { method: c.options.method ?? 'POST', headers: c.options.headers, body: c.options.body });
    if (probe.status !== 200) throw new Error(`${c.name}: probe failed ${probe.status} ${await probe.text()}`);
  }
  const outcome = await alternate(candidates, rounds, durationSec);
  console.log(ratioTable(candidates, outcome, rounds));
  return outcome;
}
