// How cost grows with the store: one backend's scale ladder per run, each size measured beside
// the raw driver (or a bare Map, in memory) doing the same work in the same run (bench/README.md,
// "How cost grows").
//
//   deno run -A bench/scale.ts --backend postgres [--sizes 10k,100k,1M,10M] [--rounds 3]
//     [--samples 500] [--dir /var/tmp] [--shared-buffers 1GB]          (bench/_scale_sql.ts)
//   deno run -A bench/scale.ts --backend pglite [--sizes 10k,100k,1M]      (bench/_scale_sql.ts)
//   deno run -A bench/scale.ts --backend nats [--sizes 10k,100k,1M] [--transport tcp]
//                                                                          (bench/_scale_nats.ts)
//   deno run -A --v8-flags=--expose-gc,--max-old-space-size=8192 bench/scale.ts --backend memory
//     [--sizes 10k,100k,1M] [--ids 10M] [--parts live,window,log,caches,passivation]
//                                                                        (bench/_scale_memory.ts)
//
// Each backend prints the disk it will use before it writes anything, starts its own servers in
// temporary folders, and removes them when it ends. Not part of CI: the PostgreSQL ladder to 10M
// takes about 25 minutes and 9 GB of disk on a 2-core machine.

import process from "node:process";
import { parseArgs } from "./_args.ts";
import { runtimeName } from "./_stats.ts";

const flags = parseArgs();
const backend = flags.get("backend") ?? "postgres";
const ladders: Record<string, () => Promise<{ run(flags: Map<string, string>): Promise<void> }>> = {
  postgres: () => import("./_scale_sql.ts").then((m) => m.postgresLadder),
  pglite: () => import("./_scale_sql.ts").then((m) => m.pgliteLadder),
  nats: () => import("./_scale_nats.ts").then((m) => m.natsLadder),
  memory: () => import("./_scale_memory.ts").then((m) => m.memoryLadder),
};
const load = ladders[backend];
if (load === undefined) {
  console.error(`--backend must be one of ${Object.keys(ladders).join(", ")}, got ${backend}`);
  process.exit(2);
}
console.log(`bench/scale.ts --backend ${backend} on ${runtimeName()}, ${new Date().toISOString()}`);
await (await load()).run(flags);
