// How long hosts that join a cluster take to get their fair share: one host owns all 64 shards
// of a type alone, two more join, and the time until no host owns more than ceil(64 / 3) is
// measured, for each leaseTtl, median of --runs runs. Hosts run in this process on their own
// TCP connections to a nats-server of the bench's own.
//
//   npx deno run -A bench/cluster_join.ts --runs 3 --lease-ttls 2000,10000

import { intFlag, parseArgs } from "./_args.ts";
import { median, runtimeName } from "./_stats.ts";
import { startNatsServer } from "../tests/_servers/nats.ts";
import { GatedLog, startHost, type TestHost } from "../tests/_cluster.ts";

const flags = parseArgs();
const runs = intFlag(flags, "runs", 3);
const ttls = (flags.get("lease-ttls") ?? "2000,10000").split(",").map(Number);
const SHARDS = 64;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const owned = (host: TestHost) => host.host.status().types.account?.shards.length ?? 0;

const server = await startNatsServer({ own: true });
try {
  for (const leaseTtl of ttls) {
    const times: number[] = [];
    for (let run = 0; run < runs; run++) {
      const cluster = `join-${leaseTtl}-${run}`;
      const log = new GatedLog();
      const options = { shards: SHARDS, leaseTtl };
      const first = await startHost(server.tcpUrl!, cluster, log, { hostId: "a", ...options });
      const hosts = [first];
      try {
        while (owned(first) < SHARDS) await sleep(20);
        const joinedAt = performance.now();
        for (const hostId of ["b", "c"]) {
          hosts.push(await startHost(server.tcpUrl!, cluster, log, { hostId, ...options }));
        }
        const cap = Math.ceil(SHARDS / hosts.length);
        for (;;) {
          const counts = hosts.map(owned);
          if (Math.max(...counts) <= cap && counts.reduce((a, b) => a + b) === SHARDS) break;
          await sleep(20);
        }
        times.push(performance.now() - joinedAt);
      } finally {
        await Promise.all(hosts.map((host) => host.stop()));
      }
    }
    console.log(
      `${runtimeName()} leaseTtl ${leaseTtl} ms: two hosts joining one with ${SHARDS} shards, fair after ${
        times.map((t) => (t / 1000).toFixed(2)).join(", ")
      } s; median ${(median(times) / 1000).toFixed(2)} s`,
    );
  }
} finally {
  await server.dispose();
}
