// A host of the counter fleet: joins a cluster over NATS and owns its share of the counters,
// which any EntityClient (the HTTP servers, the Worker, the browser page) reaches by id. Runs
// unchanged on Deno, Bun and Node; start as many as you like, stop them with SIGTERM or
// SIGINT (Ctrl-C): each hands its counters over to the others before it exits.
//
//   deno run -A examples/fleet/host.ts [--nats URL] [--cluster NAME] [--host-id ID] [--shards N]
//   bun examples/fleet/host.ts         [same options]
//   node dist/npm/examples/fleet/host.js [same options]   (after `npm run build`; on Node 20
//                                                           add --experimental-websocket for ws://)
//
// --nats (or NATS_URL): nats://host:port over TCP, or ws:// / wss:// over WebSocket; default
// nats://127.0.0.1:4222. --cluster (or CLUSTER): default "counters". --stream: the JetStream
// stream and subject prefix of the events, default "eventsourced". When it has joined it prints
//
//   Host <id> serves counter in cluster "<name>" via <url>

import process from "node:process";
import { connectNats } from "./connect.ts";
import { startCounterHost } from "./counter_host.ts";
import { parseHostArgs, stopOnSignal } from "./cli.ts";

const args = parseHostArgs(process.argv.slice(2));
const nc = await connectNats(args.nats, "eventsourced-counter-host");
const host = await startCounterHost(nc, args);
stopOnSignal(async () => {
  await host.stop();
  await nc.close();
});
console.log(`Host ${host.hostId} serves counter in cluster "${args.cluster}" via ${args.nats}`);
