// scratch: load the routed or raw path from Deno (for profiling a host or responder).
import { connect } from "@nats-io/transport-node";
import { benchClient, routedSender } from "./_cluster_fleet.ts";
import { drive, entityIds, warmUp } from "./_cluster_workload.ts";
import { rawSender } from "./_cluster_raw.ts";
const [url, cluster, path, secs] = Deno.args;
const nc = await connect({ servers: url });
const send = path === "raw" ? rawSender(nc) : routedSender(benchClient(nc, cluster!, 10000));
const ids = entityIds(`p${Date.now()}`, 1000);
await warmUp(send, ids);
const m = await drive(send, ids, 64, Number(secs ?? 8));
console.log(path, Math.round(m.commands / m.seconds), "cmd/s");
await nc.close();
