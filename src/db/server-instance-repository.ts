// The running server instances as commands see them (the ServerInstance table, kept by
// instance-registry.ts): who is live and what each has applied, and forgetting them all after
// a restore.
import type { Database } from './database.ts';
import { liveInstances, type InstanceRow } from './instance-registry.ts';

export type { InstanceRow };
export { instanceName } from './instance-registry.ts';

export const listLiveInstances = (db: Database): Promise<InstanceRow[]> => liveInstances(db.sql);

/** A restored database's instances are the source's, not this one's. */
export async function forgetAllInstances(db: Database): Promise<void> {
  await db.prisma.serverInstance.deleteMany({});
}
