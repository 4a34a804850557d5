// A child of bench/cluster.ts: one EntityHost of the bench counter on a TCP connection of its
// own, its NatsEventLog on the same connection. Config:
//   { "natsUrl": "nats://…", "cluster": "…", "hostId": "…", "leaseTtl": 2000 }
// Prints `ready <hostId>` once the host has started, and `errors <lost leases> <other>` when
// those counts change (at most once a second; the first few other errors also go to stderr);
// on `stop` (stdin) it hands its shards over (host.stop()) and exits.

import process from "node:process";
import { connect } from "@nats-io/transport-node";
import { EntityHost, NatsEventLog } from "../adapters/nats/mod.ts";
import { counterBinarize, counterCommands } from "./_cluster_workload.ts";
import { stopRequested } from "./_child.ts";

interface Config {
  natsUrl: string;
  cluster: string;
  hostId: string;
  leaseTtl: number;
}

const config = JSON.parse(process.argv[process.argv.length - 1]!) as Config;
const nc = await connect({ servers: config.natsUrl });
const eventLog = new NatsEventLog(nc);
await eventLog.setup();
const host = await EntityHost.start(nc, {
  cluster: config.cluster,
  hostId: config.hostId,
  leaseTtl: config.leaseTtl,
  entities: [{ commands: counterCommands, eventLog, binarize: counterBinarize }],
  onError: (error) => {
    const cause = (error as { cause?: unknown })?.cause;
    const message = (error instanceof Error ? error.message : String(error)) +
      (cause instanceof Error ? ` (${cause.message})` : "");
    if (message.includes("lost the lease")) lost++;
    else if (++other <= 5) console.error(`host ${config.hostId}: ${message}`);
  },
});
let lost = 0;
let other = 0;
let reported = "0 0";
setInterval(() => {
  const counts = `${lost} ${other}`;
  if (counts !== reported) console.log(`errors ${reported = counts}`);
}, 1000);
console.log(`ready ${host.hostId}`);
await stopRequested();
await host.stop();
await nc.close();
process.exit(0);
