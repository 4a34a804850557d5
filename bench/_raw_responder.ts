// A child of bench/cluster.ts: the raw path's responder (bench/_cluster_raw.ts) on a TCP
// connection of its own, as a host would run. Config: { "natsUrl": "nats://…" }.

import process from "node:process";
import { connect } from "@nats-io/transport-node";
import { serveRaw } from "./_cluster_raw.ts";
import { stopRequested } from "./_child.ts";

const { natsUrl } = JSON.parse(process.argv[process.argv.length - 1]!) as { natsUrl: string };
const nc = await connect({ servers: natsUrl });
const subscription = serveRaw(nc, (error) => console.error("raw responder:", error));
await nc.flush();
console.log("ready");
await stopRequested();
await subscription.drain();
await nc.close();
process.exit(0);
