// A client of the cluster "bank": it sends commands to accounts by id, wherever they live,
// and lists the hosts with their shards. Any process with a NATS connection can be one.
//
//   NATS_URL=nats://127.0.0.1:4222 deno run -A examples/fleet/client.ts

import process from "node:process";
import { connect } from "@nats-io/transport-node";
import { EntityClient } from "../../adapters/nats/mod.ts";
import { accountCommands } from "./account.ts";

const nc = await connect({ servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222" });
// With the command sets, names, payloads, replies and rejections are typed and checked. The
// deadline is longer than the hosts' leaseTtl (10 s), so a command outlives a host's crash.
const bank = new EntityClient(nc, {
  cluster: "bank",
  entities: { account: accountCommands },
  timeout: 30_000,
});

// The host that owns "alice" runs the command; the result is the entity's Result.
console.log(await bank.send("account", "alice", "deposit", { amount: 100 }));
// { ok: true, value: 100 } (the balance: 100 more on every run)
console.log(await bank.send("account", "alice", "withdraw", { amount: 1_000_000 }));
// { ok: false, error: "InsufficientFunds" }

// Sent twice with one command id, a command is applied once; the second answer says so.
const commandId = crypto.randomUUID();
await bank.send("account", "bob", "deposit", { amount: 5 }, { commandId });
console.log(await bank.send("account", "bob", "deposit", { amount: 5 }, { commandId }));
// { ok: true, duplicate: true, value: undefined, seqNo: 1 } (the seqNo of the event it wrote)

// A hundred accounts, spread over the hosts' shards.
await Promise.all(
  Array.from({ length: 100 }, (_, i) => bank.send("account", `a${i}`, "deposit", { amount: 1 })),
);
for (const { hostId, types } of await bank.hosts()) {
  const { shards, entities } = types.account ?? { shards: [], entities: 0 };
  console.log(`${hostId}: ${shards.length} shards, ${entities} live accounts`);
}
await nc.close();
