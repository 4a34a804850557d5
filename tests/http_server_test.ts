// The HTTP server example (examples/http-server/main.ts) as a fleet of real OS processes: one
// server under Deno (Deno.serve) and one under Bun (Bun.serve) share one cluster on a real
// nats-server. Each is an EntityHost owning its share of the counters and forwards every
// request through an EntityClient to the owner, so either server answers for any counter.
// Then one stops gracefully and the other carries on with all the counters.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { collect } from "../testing/mod.ts";
import { NatsEventLog } from "../adapters/nats/mod.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import {
  binPath,
  type Child,
  decodeJson,
  lazy,
  repoPath,
  request,
  startChild,
  stopGracefully,
  waitForOutput,
} from "./_edge_util.ts";

const MAIN = repoPath("examples", "http-server", "main.ts");
const SHARDS = 16;
const TIMEOUT = { timeout: 120_000 };
const children = new Set<Child>();
const run = Math.random().toString(36).slice(2, 8);
const cluster = `http-${run}`;

type Runtime = "deno" | "bun";

interface Server {
  readonly runtime: Runtime;
  readonly child: Child;
  readonly url: string;
  readonly hostId: string;
}

interface Listed {
  hostId: string;
  types: { counter?: { shards: number[]; entities: number } };
}

let nats: NatsTestServer;
let eventLog: NatsEventLog;
let deno: Server;
let bun: Server;

function command(runtime: Runtime): [string, string[]] {
  return runtime === "deno"
    ? [binPath("deno", process.env.DENO_BIN), ["run", "-A", MAIN]]
    : [binPath("bun", process.env.BUN_BIN), [MAIN]];
}

/** Starts a server on a port it picks itself and waits for its "Listening on" line. */
async function startServer(runtime: Runtime): Promise<Server> {
  const [bin, prefix] = command(runtime);
  const child = startChild(bin, [
    ...prefix,
    ...["--port", "0", "--nats", nats.tcpUrl!, "--cluster", cluster, "--shards", `${SHARDS}`],
  ]);
  children.add(child);
  const match = await waitForOutput(
    child,
    /Listening on (http:\/\/127\.0\.0\.1:\d+) as host (\S+) of cluster/,
    `The ${runtime} server`,
    90_000,
  );
  return { runtime, child, url: match[1]!, hostId: match[2]! };
}

const setup = lazy(async () => {
  nats = await startNatsServer({ own: true }); // the servers need its TCP port
  eventLog = await NatsEventLog.connect({ servers: nats.wsUrl });
  await eventLog.setup();
  // One after the other, so that one of them creates the cluster's configuration.
  deno = await startServer("deno");
  bun = await startServer("bun");
});

after(async () => {
  await Promise.all([...children].map((child) => child.stop()));
  await eventLog?.close();
  await nats?.dispose();
});

/** Runs `task` for each item, at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

/** The hosts as `server` lists them (GET /hosts). */
async function hostsOf(server: Server): Promise<Listed[]> {
  const reply = await request(`${server.url}/hosts`);
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body.hosts as Listed[];
}

/**
 * Polls GET /hosts on `server` until every shard of the counter has exactly one owner among
 * `expected` hosts and each of them owns some (the hosts take their share gradually).
 */
async function waitForSplit(server: Server, expected: readonly Server[]): Promise<Listed[]> {
  const deadline = Date.now() + 60_000;
  let listed: Listed[] = [];
  for (;;) {
    listed = await hostsOf(server);
    const owned = listed.flatMap((h) => h.types.counter?.shards ?? []).sort((a, b) => a - b);
    const split = listed.length === expected.length &&
      listed.every((h) => (h.types.counter?.shards.length ?? 0) > 0) &&
      JSON.stringify(owned) === JSON.stringify(Array.from({ length: SHARDS }, (_, i) => i));
    if (split) break;
    if (Date.now() > deadline) {
      assert.fail(`The shards did not split within 60 s: ${JSON.stringify(listed)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.deepEqual(
    listed.map((h) => h.hostId).sort(),
    expected.map((s) => s.hostId).sort(),
  );
  return listed;
}

async function checkApi(url: string, id: string): Promise<void> {
  const counter = `${url}/counter/${id}`;
  assert.deepEqual(await request(`${counter}/increase?by=5`, "POST"), {
    status: 200,
    body: { id, value: 5 },
  });
  assert.deepEqual(await request(`${counter}/decrease?by=9`, "POST"), {
    status: 409,
    body: { id, error: "Underflow" },
  });
  assert.deepEqual(await request(`${counter}/increase?by=1000000`, "POST"), {
    status: 409,
    body: { id, error: "Overflow" },
  });
  assert.deepEqual(await request(`${counter}/decrease?by=2`, "POST"), {
    status: 200,
    body: { id, value: 3 },
  });
  assert.deepEqual(await request(counter), { status: 200, body: { id, value: 3 } });
  // A request sent again with the same Idempotency-Key is not applied twice: it is answered
  // with the first answer (kept by the owning host for a while) or as a duplicate.
  const key = { "idempotency-key": `${id}-retry` };
  assert.deepEqual(await request(`${counter}/increase?by=4`, "POST", key), {
    status: 200,
    body: { id, value: 7 },
  });
  const again = await request(`${counter}/increase?by=4`, "POST", key);
  assert.ok(
    [{ id, value: 7 }, { id, duplicate: true }].some((body) =>
      JSON.stringify({ status: 200, body }) === JSON.stringify(again)
    ),
    JSON.stringify(again),
  );
  assert.deepEqual(await request(`${counter}/decrease?by=4`, "POST"), {
    status: 200,
    body: { id, value: 3 },
  });
  const badKey = await request(`${counter}/increase?by=1`, "POST", {
    "idempotency-key": "x".repeat(300),
  });
  assert.equal(badKey.status, 400);
  assert.match(String(badKey.body.error), /commandId/);
  assert.equal((await request(`${counter}/increase?by=x`, "POST")).status, 400);
  assert.equal((await request(`${url}/elsewhere`)).status, 404);
  // Ids travel URI-encoded: any id the core accepts round-trips, a refused one is a 400.
  const odd = `${id} a.b/é*>`;
  assert.deepEqual(
    await request(`${url}/counter/${encodeURIComponent(odd)}/increase?by=2`, "POST"),
    { status: 200, body: { id: odd, value: 2 } },
  );
  const refused = await request(`${url}/counter/${encodeURIComponent("a\u0000b")}`);
  assert.equal(refused.status, 400);
  assert.match(String(refused.body.error), /must not contain NUL/);
}

test(
  "either server (Deno.serve, Bun.serve) answers the counter API for any counter",
  TIMEOUT,
  async () => {
    await setup();
    await checkApi(deno.url, `deno-${run}`);
    await checkApi(bun.url, `bun-${run}`);
    // One owner per counter whichever server a request reaches: concurrent increases sent to
    // both each land once.
    const id = `both-${run}`;
    const replies = await Promise.all(
      Array.from(
        { length: 30 },
        (_, i) => request(`${[deno, bun][i % 2]!.url}/counter/${id}/increase?by=1`, "POST"),
      ),
    );
    assert.deepEqual(
      replies.map((r) => r.body.value as number).sort((a, b) => a - b),
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    assert.deepEqual(await request(`${deno.url}/counter/${id}`), {
      status: 200,
      body: { id, value: 30 },
    });
    assert.deepEqual(await request(`${bun.url}/counter/${id}`), {
      status: 200,
      body: { id, value: 30 },
    });
  },
);

const COUNTERS = Array.from({ length: 48 }, (_, i) => `many-${run}-${i}`);
/** Increases sent to each of COUNTERS so far, all answered 200. */
let sent = 0;

/** One increase by 1 of every counter, half through each server in `servers`; all must be 200. */
async function increaseAll(servers: readonly Server[]): Promise<void> {
  const failed: unknown[] = [];
  await pool(
    COUNTERS.map((id, i) => [id, servers[i % servers.length]!] as const),
    16,
    async ([id, server]) => {
      const reply = await request(`${server.url}/counter/${id}/increase?by=1`, "POST");
      if (reply.status !== 200) failed.push({ server: server.runtime, ...reply });
    },
  );
  assert.deepEqual(failed, [], "no request failed");
  sent++;
}

/** Every counter holds `sent` in both its reply and its log, one event per increase. */
async function checkTotals(servers: readonly Server[]): Promise<void> {
  await pool(COUNTERS, 8, async (id) => {
    for (const server of servers) {
      assert.deepEqual(await request(`${server.url}/counter/${id}`), {
        status: 200,
        body: { id, value: sent },
      });
    }
    const events = await collect(eventLog.eventsById("counter", id, 1));
    assert.deepEqual(events.map((e) => e.seqNo), Array.from({ length: sent }, (_, i) => i + 1));
    assert.ok(decodeJson(events).every((e) => JSON.stringify(e) === '{"type":"increased","by":1}'));
  });
}

test(
  "the shards split between the two servers, and many counters through both come out exact",
  TIMEOUT,
  async () => {
    await setup();
    await waitForSplit(deno, [deno, bun]);
    for (let round = 0; round < 5; round++) await increaseAll([deno, bun]);
    await checkTotals([deno, bun]);
    // Both hold live counters: each server owns a share, not just forwards.
    const listed = await waitForSplit(bun, [deno, bun]);
    for (const host of listed) {
      assert.ok((host.types.counter?.entities ?? 0) > 0, JSON.stringify(listed));
    }
  },
);

test(
  "when one server stops gracefully, the other takes every shard over and no request fails",
  TIMEOUT,
  async () => {
    await setup();
    // Requests go on, through the server that stays, while the other hands its shards over.
    const stopping = stopGracefully(deno.child);
    for (let round = 0; round < 4; round++) await increaseAll([bun]);
    await stopping;
    children.delete(deno.child);
    for (let round = 0; round < 2; round++) await increaseAll([bun]);
    await checkTotals([bun]);
    const listed = await waitForSplit(bun, [bun]);
    assert.equal(listed[0]!.types.counter?.shards.length, SHARDS);
    await stopGracefully(bun.child);
    children.delete(bun.child);
  },
);
