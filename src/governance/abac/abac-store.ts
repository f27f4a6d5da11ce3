// Keeps this process's attribute-based access control state current: attributes, zones and the
// active Cedar policy set, compiled once per version. Reloaded by the policy store when the change
// feed carries an abac change (policy-store.ts), so activation reaches every instance within the
// same bound as a role change. A stored active version that does not compile makes the state
// 'unavailable': issuance refuses (temporarily_unavailable) instead of issuing unchecked tokens.
import { findPolicySet, latestChangeAt, latestChangesByKey, listAttributeRows, listZoneRows, recentActivations } from '../../db/abac-repository.ts';
import type { Database } from '../../db/database.ts';
import type { Logger } from '../../log/logger.ts';
import type { PolicySnapshot } from '../policy-model.ts';
import { parseStringArray } from '../policy-loader.ts';
import { ATTRIBUTE_SUBJECTS, type AbacData, type AttributeSubject } from './abac-model.ts';
import { createScopeJudge, type ScopeJudge } from './abac-decision.ts';
import { compilePolicySet, type CompiledPolicySet, type PolicySources } from './cedar-policy-set.ts';

export const ABAC_CHANGE_KINDS: ReadonlySet<string> = new Set(['abac-attribute', 'abac-zone', 'abac-policy']);

/** What issuance consults: no active set (roles only), the judge of the active one, or unavailable. */
export type ActivePolicy =
  | { readonly state: 'none' }
  | { readonly state: 'active'; readonly version: number; readonly activatedAt: number; readonly judge: ScopeJudge }
  | { readonly state: 'unavailable'; readonly version: number; readonly activatedAt: number; readonly error: string };

export interface AbacStore {
  active(): ActivePolicy;
  data(): AbacData;
  /**
   * Epoch ms of the last change to what policies decide on about these subjects (the active set
   * and the zones, which concern everyone, and the attributes or labels of each subject), by the
   * database's clock: a token issued later was judged by the current state already.
   */
  changedAt(subjects: readonly { kind: AttributeSubject; key: string }[]): number;
  reload(): Promise<void>;
}

export async function loadAbacData(db: Database): Promise<AbacData> {
  const attributes = new Map<AttributeSubject, Map<string, Record<string, string>>>(ATTRIBUTE_SUBJECTS.map((k) => [k, new Map()]));
  for (const row of await listAttributeRows(db)) {
    const bySubject = attributes.get(row.subjectKind as AttributeSubject);
    if (!bySubject) continue;
    const record = bySubject.get(row.subjectKey) ?? {};
    record[row.key] = row.value;
    bySubject.set(row.subjectKey, record);
  }
  const zones = (await listZoneRows(db)).map((z) => ({ name: z.name, cidrs: parseStringArray(z.cidrs, 'AbacNetworkZone.cidrs') }));
  return { attributes, zones };
}

/** The stored sources of a version (JSON object of file → text, validated here at the edge). */
export function parseSources(json: string): PolicySources {
  const value: unknown = JSON.parse(json);
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new TypeError('AbacPolicySet.sources must hold a JSON object of file name → Cedar text');
  }
  return value as PolicySources;
}

type Loaded = { state: 'none' } | { state: 'active'; set: CompiledPolicySet; activatedAt: number } | { state: 'unavailable'; version: number; activatedAt: number; error: string };

export async function createAbacStore(deps: { db: Database; log: Logger; snapshot: () => PolicySnapshot }): Promise<AbacStore> {
  const { db, log } = deps;
  // Compiled sets by version: a rollback to a version compiled before costs nothing.
  const compiled = new Map<number, CompiledPolicySet>();
  let data = await loadAbacData(db);
  let loaded: Loaded = { state: 'none' };
  let judged: { snapshot: PolicySnapshot; data: AbacData; set: CompiledPolicySet; judge: ScopeJudge } | undefined;

  async function loadActive(): Promise<Loaded> {
    const [latest] = await recentActivations(db, 1);
    if (!latest || latest.version === null) return { state: 'none' };
    const activatedAt = latest.activatedAt.getTime();
    const cached = compiled.get(latest.version);
    if (cached) return { state: 'active', set: cached, activatedAt };
    try {
      const row = await findPolicySet(db, latest.version);
      if (!row) throw new Error(`policy set version ${latest.version} does not exist`);
      const set = compilePolicySet(row.version, row.sha256, parseSources(row.sources));
      compiled.set(row.version, set);
      return { state: 'active', set, activatedAt };
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      log.error('the active policy set cannot be loaded: issuance is refused (temporarily_unavailable) until a loadable version is activated', { version: latest.version, error });
      return { state: 'unavailable', version: latest.version, activatedAt, error };
    }
  }

  loaded = await loadActive();
  // Activations and zone changes concern every token; an attribute or label change only the
  // tokens of its subject (so setting one person's attribute does not judge everyone's tokens again).
  const lastChange = async (): Promise<{ everyone: number; bySubject: Map<string, number> }> => {
    const [latest] = await recentActivations(db, 1);
    const fed = await latestChangeAt(db, ['abac-policy', 'abac-zone']);
    return { everyone: Math.max(latest?.activatedAt.getTime() ?? 0, fed?.getTime() ?? 0), bySubject: await latestChangesByKey(db, 'abac-attribute') };
  };
  let changes = await lastChange();

  return {
    active() {
      if (loaded.state !== 'active') return loaded;
      const snapshot = deps.snapshot();
      // A new judge (and decision cache) whenever what a decision reads changed.
      if (!judged || judged.snapshot !== snapshot || judged.data !== data || judged.set !== loaded.set) {
        judged = { snapshot, data, set: loaded.set, judge: createScopeJudge(loaded.set, snapshot.scopes, data) };
      }
      return { state: 'active', version: loaded.set.version, activatedAt: loaded.activatedAt, judge: judged.judge };
    },
    data: () => data,
    changedAt: (subjects) => subjects.reduce((max, s) => Math.max(max, changes.bySubject.get(`${s.kind}:${s.key}`) ?? 0), changes.everyone),
    async reload() {
      const [nextData, nextLoaded, nextChanges] = [await loadAbacData(db), await loadActive(), await lastChange()];
      data = nextData;
      loaded = nextLoaded;
      changes = nextChanges;
    },
  };
}
