// The Deno/Bun HTTP server example (examples/http-server/main.ts) as a child process: once
// under Deno (Deno.serve) and once under Bun (Bun.serve), with the counters in memory, and
// under Bun with PGlite in a temporary data directory across a restart.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { binPath, type Child, join, repoPath, request, startChild } from "./_edge_util.ts";

const MAIN = repoPath("examples", "http-server", "main.ts");
const children = new Set<Child>();
const dirs: string[] = [];
const run = Math.random().toString(36).slice(2, 8);

after(async () => {
  await Promise.all([...children].map((child) => child.stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

type Runtime = "deno" | "bun";

function command(runtime: Runtime): [string, string[]] {
  return runtime === "deno"
    ? [binPath("deno", process.env.DENO_BIN), ["run", "-A", MAIN]]
    : [binPath("bun", process.env.BUN_BIN), [MAIN]];
}

/** Starts the server on a port it picks itself and waits for its "Listening on" line. */
async function startServer(
  runtime: Runtime,
  args: readonly string[],
): Promise<{ child: Child; url: string }> {
  const [bin, prefix] = command(runtime);
  const child = startChild(bin, [...prefix, "--port", "0", ...args]);
  children.add(child);
  const deadline = Date.now() + 90_000;
  for (;;) {
    const match = /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(child.output());
    if (match !== null) return { child, url: match[1]! };
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`The ${runtime} server exited before listening:\n${child.output()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`The ${runtime} server did not listen within 90 s:\n${child.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Sends SIGTERM and checks that the server shut down cleanly: it printed "Stopped" after
 * closing its entities and storage, and exited with 0. (Deno's node:child_process reports
 * the signal sent by kill() as the exit reason even when the child exits with 0, so there
 * the printed line is the proof.)
 */
async function stopServer(child: Child): Promise<void> {
  const exited = new Promise<number | string | null>((resolve) => {
    child.process.once("exit", (code, signal) => resolve(code ?? signal));
  });
  await child.stop(15_000);
  children.delete(child);
  const code = await exited;
  assert.match(child.output(), /SIGTERM: stopping\nStopped\n/, child.output());
  if (!("Deno" in globalThis)) assert.equal(code, 0, child.output());
}

async function checkApi(url: string, prefix: string): Promise<void> {
  const id = `${prefix}-${run}`;
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
  // A request sent again with the same Idempotency-Key is answered as a duplicate, not applied.
  const key = { "idempotency-key": `${id}-retry` };
  assert.deepEqual(await request(`${counter}/increase?by=4`, "POST", key), {
    status: 200,
    body: { id, value: 7 },
  });
  assert.deepEqual(await request(`${counter}/increase?by=4`, "POST", key), {
    status: 200,
    body: { id, duplicate: true },
  });
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

  // One live entity per id: concurrent increases each land once, in some order.
  const many = `${url}/counter/${id}-many`;
  const replies = await Promise.all(
    Array.from({ length: 30 }, () => request(`${many}/increase?by=1`, "POST")),
  );
  assert.deepEqual(
    replies.map((r) => r.body.value as number).sort((a, b) => a - b),
    Array.from({ length: 30 }, (_, i) => i + 1),
  );
  assert.deepEqual(await request(many), { status: 200, body: { id: `${id}-many`, value: 30 } });
}

test("under Deno, the server answers the counter API from one fetch handler (Deno.serve)", {
  timeout: 120_000,
}, async () => {
  const { child, url } = await startServer("deno", ["--memory"]);
  await checkApi(url, "deno");
  await stopServer(child);
});

test("under Bun, the server answers the counter API from one fetch handler (Bun.serve)", {
  timeout: 120_000,
}, async () => {
  const { child, url } = await startServer("bun", ["--memory"]);
  await checkApi(url, "bun");
  await stopServer(child);
});

test("on PGlite, a restarted server recovers its counters from the data directory", {
  timeout: 240_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "eventsourced-http-server-"));
  dirs.push(dir);
  const args = ["--data-dir", join(dir, "pglite")];
  const id = `pg-${run}`;
  const first = await startServer("bun", args);
  assert.match(first.child.output(), /counters in PGlite/);
  assert.equal((await request(`${first.url}/counter/${id}/increase?by=40`, "POST")).body.value, 40);
  assert.equal((await request(`${first.url}/counter/${id}/increase?by=2`, "POST")).body.value, 42);
  await stopServer(first.child);

  const second = await startServer("deno", args);
  assert.deepEqual(await request(`${second.url}/counter/${id}`), {
    status: 200,
    body: { id, value: 42 },
  });
  assert.deepEqual(await request(`${second.url}/counter/${id}/decrease?by=2`, "POST"), {
    status: 200,
    body: { id, value: 40 },
  });
  await stopServer(second.child);
});
