// What every request-path audit batch keeps current in its own transaction (audit-chain.ts
// Alongside): the access review's scope usage and the console overview's token counts. The
// server's audit writer and the console bench (bench/console-bench.ts) both use this list, so
// the bench measures what the server writes.
import type { Alongside } from './audit-chain.ts';
import { scopeUsageAlongside } from './security-event-records.ts';
import { tokenRollupAlongside } from './token-rollup-records.ts';

export const REQUEST_PATH_ALONGSIDE: readonly Alongside[] = [scopeUsageAlongside, tokenRollupAlongside];
