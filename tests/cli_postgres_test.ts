// The command-line tool on a PostgreSQL server started for this file: an unreachable server, a
// missing schema, following a type live, a projection that is running, and moving a PGlite
// store to PostgreSQL as the README shows.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { PgliteEventLog } from "../adapters/pglite/mod.ts";
import { PostgresEventLog, PostgresOffsetStore } from "../adapters/postgres/mod.ts";
import { runCli } from "../cli/mod.ts";
import { freePort } from "./_servers/free_port.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";
import { cli, cliJson } from "./_cli_run.ts";

let server: PostgresServer;
let sql: postgres.Sql;
let dir: string;
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

before(async () => {
  server = await startPostgres({ fsync: false });
  sql = postgres(server.url, { onnotice: () => {} });
  dir = mkdtempSync(join(tmpdir(), "eventsourced-cli-pg-"));
}, { timeout: 120_000 });

after(async () => {
  await sql?.end({ timeout: 5 });
  await server?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}, { timeout: 60_000 });

const tables = async (schema: string) =>
  (await sql`select table_name from information_schema.tables where table_schema = ${schema}`)
    .length;

test("an unreachable server is named by host and port within --timeout, the password hidden", async () => {
  const port = await freePort();
  const url = `postgres://app:pa55word@127.0.0.1:${port}/shop`;
  const { code, stdout, stderr } = await cli(["types", url, "--timeout", "2000"]);
  assert.equal(code, 1);
  assert.equal(stdout, "");
  assert.match(stderr, new RegExp(`PostgreSQL at 127\\.0\\.0\\.1:${port}`));
  assert.doesNotMatch(stderr, /pa55word/);
});

test("a store without the schema says to run setup, and nothing is created", async () => {
  const args = ["--schema", "cli_missing"];
  for (const command of [["types"], ["ids", "t"], ["projections"], ["events", "t", "a"]]) {
    const [name, ...rest] = command;
    const result = await cli([name!, server.url, ...rest, ...args]);
    assert.equal(result.code, 1, name);
    assert.match(result.stderr, /has no schema: run `eventsourced setup postgres:\/\/.*` first/);
  }
  const schema = await cli(["schema", server.url, ...args]);
  assert.equal(schema.code, 1);
  assert.match(schema.stdout, /^No schema \(latest is \d+\): run setup/);
  assert.equal(await tables("cli_missing"), 0);
  const setup = await cli(["setup", server.url, ...args]);
  assert.equal(setup.code, 0, setup.stderr);
  assert.match(setup.stdout, /^Schema set up: version none -> \d+/);
  assert.ok(await tables("cli_missing") > 0);
});

test("tail follows a type live until the signal ends it with exit 0", async () => {
  const names = ["--schema", "cli_tail"];
  assert.equal((await cli(["setup", server.url, ...names])).code, 0);
  const log = new PostgresEventLog(sql, { schema: "cli_tail" });
  await log.persist("account", "old", null, [json("before the tail")]);
  const controller = new AbortController();
  let stdout = "";
  let stderr = "";
  let seen: () => void = () => {};
  const following = new Promise<void>((resolve) => (seen = resolve));
  const done = runCli(["tail", server.url, "account", "--json", ...names], {
    stdout: { write: (text) => void (stdout += text, stdout.includes('"late"') && seen()) },
    stderr: { write: (text) => void (stderr += text) },
    signal: controller.signal,
  });
  // The tail starts after the head, so only the events written from now on show.
  while (!stderr.includes("Following")) await new Promise((r) => setTimeout(r, 20));
  await log.persist("account", "late", null, [json({ after: true })], {
    metadata: { correlationId: "k-1" },
  });
  await following;
  controller.abort(new Error("Ctrl-C"));
  assert.equal(await done, 0, stderr);
  const lines = stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.equal(lines.length, 1);
  assert.equal(lines[0].id, "late");
  assert.deepEqual(lines[0].payload, { after: true });
  assert.deepEqual(lines[0].metadata, { correlationId: "k-1" });
  assert.match(stderr, /Following "account" from position 2/);
});

test("reset-projection is refused while a runner holds the name, changing nothing", async () => {
  const names = ["--schema", "cli_reset"];
  assert.equal((await cli(["setup", server.url, ...names])).code, 0);
  const offsets = new PostgresOffsetStore(sql, { schema: "cli_reset" });
  const lease = await offsets.acquire("totals");
  try {
    await lease.commit({ from: 0, to: 7 }, () => Promise.resolve());
    const refused = await cli(["reset-projection", server.url, "totals", "--yes", ...names]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /totals/);
    assert.equal(await offsets.load("totals"), 7);
  } finally {
    await lease.release();
  }
  const reset = await cli(["reset-projection", server.url, "totals", "--yes", ...names]);
  assert.equal(reset.code, 0, reset.stderr);
  assert.equal(await offsets.load("totals"), 0);
});

test("a projection over several types: a row per type, reset of one type refused while held", async () => {
  const names = ["--schema", "cli_types"];
  assert.equal((await cli(["setup", server.url, ...names])).code, 0);
  const offsets = new PostgresOffsetStore(sql, { schema: "cli_types" });
  const lease = await offsets.acquire("activity");
  try {
    await lease.commitTypes!(
      new Map([["account", { from: 0, to: 3 }], ["transfer", { from: 0, to: 2 }]]),
      () => Promise.resolve(),
    );
    const refused = await cli([
      "reset-projection",
      server.url,
      "activity",
      "--type",
      "transfer",
      "--yes",
      ...names,
    ]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Cannot reset projection "activity": a runner holds it/);
  } finally {
    await lease.release();
  }
  const listed = await cliJson(["projections", server.url, ...names]) as Record<string, unknown>[];
  assert.deepEqual(listed.map((p) => [p.name, p.typeName, p.offset, p.lag]), [
    ["activity", "account", 3, 0],
    ["activity", "transfer", 2, 0],
  ]);
  const reset = await cli([
    "reset-projection",
    server.url,
    "activity",
    "--type",
    "transfer",
    "--yes",
    ...names,
  ]);
  assert.equal(reset.code, 0, reset.stderr);
  assert.deepEqual(
    await offsets.loadTypes("activity", ["account", "transfer"]),
    new Map([["account", 3], ["transfer", 0]]),
  );
});

test("copy moves a PGlite store into PostgreSQL, events and positions identical", async () => {
  const source = `pglite:${join(dir, "prototype")}`;
  assert.equal((await cli(["setup", source])).code, 0);
  const log = await PgliteEventLog.open({ dataDir: join(dir, "prototype") });
  await log.persist("account", "a-1", null, [json({ opened: true }), json({ deposited: 10 })], {
    metadata: { commandId: "c-9" },
  });
  await log.persist("account", "a-2", null, [json({ opened: true })]);
  await log.close();
  const names = ["--schema", "cli_copy"];
  const toNames = ["--to-schema", "cli_copy"];
  const target = server.url;
  const unset = await cli(["copy", source, target, ...toNames]);
  assert.equal(unset.code, 1);
  assert.match(unset.stderr, /has no schema: run `eventsourced setup/);
  assert.equal(await tables("cli_copy"), 0);
  assert.equal((await cli(["setup", target, ...names])).code, 0);
  const report = await cliJson(["copy", source, target, ...toNames]) as {
    copiedEvents: number;
    verification: { ok: boolean };
  };
  assert.equal(report.copiedEvents, 3);
  assert.equal(report.verification.ok, true);
  assert.deepEqual(
    await cliJson(["types", target, ...names]),
    await cliJson(["types", source]),
  );
  assert.deepEqual(
    await cliJson(["events", target, "account", "a-1", ...names]),
    await cliJson(["events", source, "account", "a-1"]),
  );
  assert.equal((await cli(["verify", target, ...names])).code, 0);
});
