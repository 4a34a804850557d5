// A client of the counter fleet: it sends commands to counters by id, wherever they live, and
// lists the hosts with their shards. Any process with a NATS connection can be one: a server,
// a Worker, a browser page, or this script.
//
//   deno run -A examples/fleet/client.ts [--nats URL] [--cluster NAME]
//   bun examples/fleet/client.ts         [same options]
//   node dist/npm/examples/fleet/client.js [same options]   (after `npm run build`)
//
// The options (and NATS_URL, CLUSTER) are those of ./host.ts.

import process from "node:process";
import { EntityClient } from "../../adapters/nats/mod.ts";
import { connectNats } from "./connect.ts";
import { parseHostArgs } from "./cli.ts";
import { counterCommands } from "./counter.ts";

const { nats, cluster } = parseHostArgs(process.argv.slice(2));
const nc = await connectNats(nats, "eventsourced-counter-client");
// With the command sets, names, payloads, replies and rejections are typed and checked. The
// deadline is longer than the hosts' leaseTtl (10 s), so a command outlives a host's crash.
const counters = new EntityClient(nc, {
  cluster,
  entities: { counter: counterCommands },
  timeout: 30_000,
});

// The host that owns counter "a" runs the command; the answer is the entity's Result.
console.log(await counters.send("counter", "a", "increase", 5));
// { ok: true, value: 5 } (5 more on every run)
console.log(await counters.send("counter", "a", "decrease", 1_000_000));
// { ok: false, error: "Underflow" }

// Sent twice with one command id (as after a lost answer), a command is applied once. The
// host answers the repeat with the first answer while it keeps it (three lease times), with a
// Duplicate after that.
const commandId = crypto.randomUUID();
const first = await counters.send("counter", "b", "increase", 1, { commandId });
const again = await counters.send("counter", "b", "increase", 1, { commandId });
console.log(first, again, await counters.send("counter", "b", "get", undefined));
// { ok: true, value: 1 } { ok: true, value: 1 } { ok: true, value: 1 } (one more on every run)

// A hundred counters, spread over the hosts' shards; then who owns how much.
await Promise.all(
  Array.from({ length: 100 }, (_, i) => counters.send("counter", `c${i}`, "increase", 1)),
);
for (const { hostId, types } of await counters.hosts()) {
  const { shards, entities } = types.counter ?? { shards: [], entities: 0 };
  console.log(`${hostId}: ${shards.length} shards, ${entities} live counters`);
}
await nc.close();
