// The README's walk-through of "Running a fleet", as a reader pastes it: two counter hosts
// (examples/fleet/host.ts) and the client (examples/fleet/client.ts) as processes on this
// test's runtime, against a nats-server of the test. The client's answers are what its
// comments say; after one host stops, the other owns every shard and the counters go on.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { EntityClient } from "../adapters/nats/mod.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import {
  type FleetHost,
  startChild,
  startFleetHost,
  stopGracefully,
  waitForOutput,
} from "./_edge_util.ts";

let server: NatsTestServer;
let nc: NatsConnection;
const hosts: FleetHost[] = [];
const cluster = "walkthrough";

before(async () => {
  server = await startNatsServer({ own: true });
  nc = await connect({ servers: server.tcpUrl! });
});

after(async () => {
  await Promise.all(hosts.map((host) => host.child.stop()));
  await nc?.close();
  await server?.dispose();
});

// `deno run -A client.ts`, `bun client.ts` or `node client.js` (the compiled copy in dist/npm).
function clientCommand(): [string, string[]] {
  const compiled = import.meta.url.endsWith(".js");
  const script = fileURLToPath(
    new URL(`../examples/fleet/client.${compiled ? "js" : "ts"}`, import.meta.url),
  );
  const runtime = globalThis as { Deno?: unknown; Bun?: unknown };
  if (runtime.Deno !== undefined) return [process.execPath, ["run", "-A", script]];
  return [process.execPath, [script]];
}

// Runs the client to its end; returns its output with the runtime's way of printing objects
// taken out (Bun prints them over several lines with trailing commas, Node with single quotes).
async function runClient(): Promise<string> {
  const [command, args] = clientCommand();
  const child = startChild(command, [...args, "--nats", server.tcpUrl!, "--cluster", cluster]);
  const exited = new Promise<number | null>((resolve) => {
    child.process.once("exit", (code) => resolve(code));
  });
  const timer = setTimeout(() => child.process.kill("SIGKILL"), 60_000);
  const code = await exited;
  await child.stop();
  clearTimeout(timer);
  assert.equal(code, 0, `the client failed:\n${child.output()}`);
  return child.output().replace(/[ \t]+/g, "").replace(/\{\n/g, "{").replace(/,\n\}/g, "}")
    .replace(/,\n/g, ",").replaceAll("'", '"');
}

// Waits until the hosts named own every shard between them, each some and none more than its
// fair share (ceil(64 / hosts)): a host above it goes on releasing shards, one at a time, and a
// shard between two hosts is owned by neither.
async function waitForShards(hostIds: readonly string[]): Promise<void> {
  const client = new EntityClient(nc, { cluster });
  const deadline = Date.now() + 30_000;
  let seen = "";
  while (Date.now() < deadline) {
    const statuses = await client.hosts();
    const counts = statuses.map((s) => s.types.counter?.shards.length ?? 0);
    seen = statuses.map((s, i) => `${s.hostId}: ${counts[i]}`).join(", ");
    const ids = statuses.map((s) => s.hostId);
    if (
      ids.join() === [...hostIds].sort().join() &&
      counts.every((n) => n > 0 && n <= Math.ceil(64 / hostIds.length)) &&
      counts.reduce((a, b) => a + b, 0) === 64
    ) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(`the hosts did not share the shards within 30 s (last seen ${seen})`);
}

test("the walk-through: two hosts, the client's answers, then one host stops", async () => {
  for (const id of ["a", "b"]) {
    hosts.push(
      await startFleetHost(["--nats", server.tcpUrl!, "--cluster", cluster, "--host-id", id]),
    );
  }
  await waitForShards(["a", "b"]);

  const first = await runClient();
  assert.match(first, /^\{ok:true,value:5\}\n\{ok:false,error:"Underflow"\}\n/, first);
  assert.match(first, /\n\{ok:true,value:1\}\{ok:true,value:1\}\{ok:true,value:1\}\n/, first);
  const shares = [...first.matchAll(/^([ab]):(\d+)shards,(\d+)livecounters$/gm)];
  assert.deepEqual(shares.map((m) => m[1]), ["a", "b"], first);
  assert.equal(shares.reduce((n, m) => n + Number(m[2]), 0), 64, first);
  // "a", "b" and the hundred others, each live on the one host that owns it.
  assert.equal(shares.reduce((n, m) => n + Number(m[3]), 0), 102, first);

  // Ctrl-C's SIGINT and SIGTERM stop a host alike: it hands its shards over and exits.
  const [a] = hosts.splice(0, 1);
  await stopGracefully(a!.child);
  await waitForOutput(a!.child, /^Stopped$/m, "host a");
  await waitForShards(["b"]);
  const second = await runClient();
  assert.match(second, /^\{ok:true,value:10\}\n\{ok:false,error:"Underflow"\}\n/, second);
  assert.match(second, /\n\{ok:true,value:2\}\{ok:true,value:2\}\{ok:true,value:2\}\n/, second);
  assert.match(second, /^b:64shards,102livecounters$/m, second);
});
