// Rows of attribute-based access control (src/governance/abac/): attributes and labels, network
// zones, Cedar policy set versions and the activation history. Rules, audit and change refs are
// in src/governance/abac/abac-admin.ts.
import { prismaOf, type Reader, type Tx } from './database.ts';

export interface AttributeRow {
  subjectKind: string;
  subjectKey: string;
  key: string;
  value: string;
}

export interface PolicySetRow {
  version: number;
  sources: string;
  sha256: string;
  createdAt: Date;
  createdBy: string;
}

export interface ActivationRow {
  id: number;
  version: number | null;
  activatedAt: Date;
  activatedBy: string;
}

export const listAttributeRows = (h: Reader, where?: { subjectKind: string; subjectKey?: string }): Promise<AttributeRow[]> =>
  prismaOf(h).abacAttribute.findMany({ where: where ?? {}, orderBy: [{ subjectKind: 'asc' }, { subjectKey: 'asc' }, { key: 'asc' }], select: { subjectKind: true, subjectKey: true, key: true, value: true } });

export async function upsertAttribute(tx: Tx, row: AttributeRow, at: Date): Promise<void> {
  const id = { subjectKind: row.subjectKind, subjectKey: row.subjectKey, key: row.key };
  await tx.abacAttribute.upsert({ where: { subjectKind_subjectKey_key: id }, create: { ...row, updatedAt: at }, update: { value: row.value, updatedAt: at } });
}

export async function deleteAttributes(tx: Tx, subjectKind: string, subjectKey: string, keys: readonly string[] | 'all'): Promise<number> {
  const r = await tx.abacAttribute.deleteMany({ where: { subjectKind, subjectKey, ...(keys !== 'all' && { key: { in: [...keys] } }) } });
  return r.count;
}

export const listZoneRows = (h: Reader): Promise<{ name: string; cidrs: string }[]> => prismaOf(h).abacNetworkZone.findMany({ orderBy: { name: 'asc' }, select: { name: true, cidrs: true } });

export async function upsertZone(tx: Tx, name: string, cidrs: string, at: Date): Promise<void> {
  await tx.abacNetworkZone.upsert({ where: { name }, create: { name, cidrs, updatedAt: at }, update: { cidrs, updatedAt: at } });
}

export async function deleteZone(tx: Tx, name: string): Promise<boolean> {
  return (await tx.abacNetworkZone.deleteMany({ where: { name } })).count > 0;
}

export const insertPolicySet = (tx: Tx, row: Omit<PolicySetRow, 'version'>): Promise<PolicySetRow> => tx.abacPolicySet.create({ data: row });

export const findPolicySet = (h: Reader, version: number): Promise<PolicySetRow | null> => prismaOf(h).abacPolicySet.findUnique({ where: { version } });

export const listPolicySetRows = (h: Reader): Promise<Omit<PolicySetRow, 'sources'>[]> =>
  prismaOf(h).abacPolicySet.findMany({ orderBy: { version: 'asc' }, select: { version: true, sha256: true, createdAt: true, createdBy: true } });

export const insertActivation = (tx: Tx, row: Omit<ActivationRow, 'id'>): Promise<ActivationRow> => tx.abacPolicyActivation.create({ data: row });

/** The newest activations first (the first is in force). */
export const recentActivations = (h: Reader, take: number): Promise<ActivationRow[]> => prismaOf(h).abacPolicyActivation.findMany({ orderBy: { id: 'desc' }, take });

/** When the newest change of these kinds was written (the feed's own timestamp), if any is left. */
export async function latestChangeAt(h: Reader, kinds: readonly string[]): Promise<Date | undefined> {
  const row = await prismaOf(h).change.findFirst({ where: { kind: { in: [...kinds] } }, orderBy: { id: 'desc' }, select: { createdAt: true } });
  return row?.createdAt;
}

/** The stored key of an attribute subject (a person's id from their email), or null when there is none. */
export async function resolveSubject(h: Reader, kind: string, name: string): Promise<string | null> {
  const p = prismaOf(h);
  switch (kind) {
    case 'person':
      return (await p.user.findUnique({ where: { email: name }, select: { id: true } }))?.id ?? null;
    case 'client':
      return (await p.client.findUnique({ where: { id: name }, select: { id: true } }))?.id ?? null;
    case 'resource':
      return (await p.resource.findUnique({ where: { audience: name }, select: { audience: true } }))?.audience ?? null;
    case 'scope':
      return (await p.scope.findUnique({ where: { name }, select: { name: true } }))?.name ?? null;
    default:
      return null;
  }
}

/** Per change key, when the newest change of this kind was written (the feed's own timestamps). */
export async function latestChangesByKey(h: Reader, kind: string): Promise<Map<string, number>> {
  const rows = await prismaOf(h).change.groupBy({ by: ['key'], where: { kind }, _max: { createdAt: true } });
  return new Map(rows.map((r) => [r.key, r._max.createdAt?.getTime() ?? 0]));
}
