// An EntityHost run as a child process by the cluster fault tests. It connects over TCP to the
// nats-server of the test, hosts the tagged counter of cluster_counter.ts on a NatsEventLog of
// the same server (whose concurrency check is the fence between two hosts that both believe
// they own a shard), and prints, one per line:
//   ready <hostId>            EntityHost.start resolved
//   status <json>             on the stdin line "status": host.status() with what onError
//                             heard (ClusterHostStatus)
//   stopped                   on the stdin line "stop": host.stop() resolved; then it exits 0
// When stdin closes (the test is gone) it exits at once, so no host outlives its test.

import process from "node:process";
import { writeSync } from "node:fs";
import { createInterface } from "node:readline";
import { connect } from "@nats-io/transport-node";
import { EntityHost, type HostStatus, NatsEventLog } from "../../adapters/nats/mod.ts";
import { taggedBinarize } from "./load.ts";
import { clusterCounterCommands } from "./cluster_counter.ts";

/** What the parent passes as the one argument (JSON). */
export interface ClusterHostConfig {
  /** `nats://127.0.0.1:<port>`. */
  url: string;
  cluster: string;
  typeName: string;
  leaseTtl: number;
  hostId?: string;
  shards?: number;
  passivateAfter?: number;
}

/** The record of a `status` line: the host's status and what its onError heard. */
export interface ClusterHostStatus extends HostStatus {
  /** Calls of onError. */
  errors: number;
  /** Of those: leases lost ("lost-lease"), renewals that failed ("renew"), the rest ("other"). */
  errorKinds: { "lost-lease": number; renew: number; other: number };
  /** The first few of their messages, with their causes. */
  firstErrors: string[];
}

const config = JSON.parse(process.argv[process.argv.length - 1]!) as ClusterHostConfig;
// Synchronous writes: a line is in the pipe before the next step (see writer.ts).
const encoder = new TextEncoder();
function out(line: string): void {
  const bytes = encoder.encode(`${line}\n`);
  for (let offset = 0; offset < bytes.length;) {
    try {
      offset += writeSync(1, bytes, offset);
    } catch (error) {
      if ((error as { code?: string }).code !== "EAGAIN") throw error;
    }
  }
}

let errors = 0;
const errorKinds = { "lost-lease": 0, renew: 0, other: 0 };
const firstErrors: string[] = [];
function onError(error: unknown): void {
  errors++;
  const message = error instanceof Error ? error.message : "";
  if (message.includes("lost the lease")) errorKinds["lost-lease"]++;
  else if (message.startsWith("Cannot renew")) errorKinds.renew++;
  else errorKinds.other++;
  if (firstErrors.length < 5) {
    const text = (e: unknown) => e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    const cause = error instanceof Error && error.cause !== undefined ? error.cause : undefined;
    firstErrors.push(cause === undefined ? text(error) : `${text(error)} (${text(cause)})`);
  }
}

const nc = await connect({ servers: config.url, name: `host-${config.hostId ?? "?"}` });
const eventLog = new NatsEventLog(nc);
const host = await EntityHost.start(nc, {
  cluster: config.cluster,
  ...(config.hostId === undefined ? {} : { hostId: config.hostId }),
  ...(config.shards === undefined ? {} : { shards: config.shards }),
  leaseTtl: config.leaseTtl,
  entities: [{
    commands: clusterCounterCommands(config.typeName),
    eventLog,
    binarize: taggedBinarize,
    ...(config.passivateAfter === undefined ? {} : { passivateAfter: config.passivateAfter }),
  }],
  onError,
});
out(`ready ${host.hostId}`);

let stopping = false;
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const command = line.trim();
  if (command === "status") {
    const status: ClusterHostStatus = { ...host.status(), errors, errorKinds, firstErrors };
    out(`status ${JSON.stringify(status)}`);
  } else if (command === "stop" && !stopping) {
    stopping = true;
    host.stop().then(async () => {
      out("stopped");
      await nc.close();
      process.exit(0);
    }, (error: unknown) => {
      console.error("stop failed:", error);
      process.exit(2);
    });
  }
});
lines.on("close", () => {
  if (!stopping) process.exit(3);
});
