// V8 settings for server processes. Without them a worker's RSS grew to ~340 MB under load
// (the young generation alone can reach 48 MB per semi-space set, and the heap limit follows the
// machine's 24 GiB); with them the peak stayed at ~185 MB at the same throughput (bench/README.md).
// Live heap is ~30 MB; most of the RSS is code (Node, oidc-provider, Prisma's WASM compiler).
// Applied by `npm start` (package.json) and by the cluster primary to its workers.
export const SERVER_V8_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--max-old-space-size=192'];
