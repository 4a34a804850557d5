// The command-line tool on a PGlite data directory, in-process through runCli: every command
// against a store filled by the adapters, and bad input that changes nothing.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PgliteEventLog, PgliteOffsetStore, PgliteSnapshotStore } from "../adapters/pglite/mod.ts";
import type { PersistedEvent } from "../mod.ts";
import { collect } from "../testing/mod.ts";
import { cli, cliJson } from "./_cli_run.ts";

let dir: string;
let url: string;
const written: PersistedEvent[] = [];
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "eventsourced-cli-pglite-"));
  url = `pglite:${join(dir, "store")}`;
  const setup = await cli(["setup", url]);
  assert.equal(setup.code, 0, setup.stderr);
  assert.match(setup.stdout, /^Schema set up: version none -> \d+\n$/);
  const db = await PGlite.create({ dataDir: join(dir, "store") });
  try {
    const log = new PgliteEventLog(db);
    const metadata = { commandId: "c-1", headers: { user: "ada" } };
    await log.persist("account", "a-1", null, [json({ deposited: 5 }), json({ withdrawn: 2 })], {
      metadata,
      version: 2,
    });
    await log.persist("account", "b.2", null, [new Uint8Array([0xff, 0, 1])]);
    await log.persist("account", "a-1", 2, [json({ deposited: 1 })]);
    await log.persist("cart", "c-1", null, [json("opened")]);
    for (const type of ["account", "cart"]) {
      written.push(...await collect(log.eventsByType(type, 1)));
    }
    await new PgliteSnapshotStore(db).save("account", "a-1", 2, json({ balance: 3 }));
    const lease = await new PgliteOffsetStore(db).acquire("balances");
    await lease.commit({ from: 0, to: 2 }, () => Promise.resolve());
    await lease.release();
  } finally {
    await db.close();
  }
}, { timeout: 60_000 });

after(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

test("setup again reports the schema already there; schema shows it up to date", async () => {
  const again = await cli(["setup", url]);
  assert.equal(again.code, 0);
  assert.match(again.stdout, /^Schema already at version (\d+)\n$/);
  const state = await cliJson(["schema", url]) as { installed: number; latest: number };
  assert.deepEqual(state, { installed: state.latest, latest: state.latest, upToDate: true });
  assert.deepEqual(await cliJson(["setup", url]), {
    from: state.latest,
    to: state.latest,
    latest: state.latest,
  });
});

test("types lists each type with its entities, events and head position", async () => {
  assert.deepEqual(await cliJson(["types", url]), [
    { typeName: "account", entities: 2, events: 4, headPosition: 4 },
    { typeName: "cart", entities: 1, events: 1, headPosition: 1 },
  ]);
  const text = await cli(["types", url]);
  assert.equal(text.code, 0);
  assert.deepEqual(text.stdout.split("\n"), [
    "TYPE     ENTITIES  EVENTS  HEAD",
    "account         2       4     4",
    "cart            1       1     1",
    "",
  ]);
});

test("ids lists a type's ids in code unit order, and --limit stops early", async () => {
  assert.deepEqual(await cliJson(["ids", url, "account"]), ["a-1", "b.2"]);
  assert.equal((await cli(["ids", url, "account"])).stdout, "a-1\nb.2\n");
  assert.deepEqual(await cliJson(["ids", url, "account", "--limit", "1"]), ["a-1"]);
  const none = await cli(["ids", url, "nothing"]);
  assert.equal(none.code, 0);
  assert.equal(none.stdout, "");
  assert.match(none.stderr, /No entities of type "nothing"/);
  assert.deepEqual(await cliJson(["ids", url, "nothing"]), []);
});

test("events shows each event with its metadata, JSON payloads decoded", async () => {
  const events = await cliJson(["events", url, "account", "a-1"]) as Record<string, unknown>[];
  const expected = written.filter((e) => e.id === "a-1");
  assert.equal(events.length, 3);
  for (const [i, event] of events.entries()) {
    const source = expected[i]!;
    assert.equal(event.seqNo, source.seqNo);
    assert.equal(event.position, source.position);
    assert.equal(event.version, source.version);
    assert.equal(event.writtenAt, new Date(source.writtenAt).toISOString());
    assert.deepEqual(event.metadata, source.metadata);
    assert.equal(event.encoding, "json");
  }
  assert.deepEqual(events.map((e) => e.payload), [{ deposited: 5 }, { withdrawn: 2 }, {
    deposited: 1,
  }]);
  assert.deepEqual(events[0]!.metadata, { commandId: "c-1", headers: { user: "ada" } });
  assert.equal(events[0]!.version, 2);
  const from = await cliJson(["events", url, "account", "a-1", "--from", "3"]) as {
    seqNo: number;
  }[];
  assert.deepEqual(from.map((e) => e.seqNo), [3]);
  const text = await cli(["events", url, "account", "a-1"]);
  assert.match(
    text.stdout,
    /^#1 @1 v2 \d{4}-\d\d-\d\dT[\d:.]+Z {2}json \{"deposited":5\} {2}metadata \{"commandId":"c-1"/,
  );
});

test("events shows a payload that is not UTF-8 JSON as base64", async () => {
  const [event] = await cliJson(["events", url, "account", "b.2"]) as Record<string, unknown>[];
  assert.equal(event!.encoding, "base64");
  assert.equal(event!.payload, "/wAB");
  assert.deepEqual(event!.metadata, {});
});

test("events --codec decodes with the module's default export, and names an event it cannot decode", async () => {
  const codec = join(dir, "codec.mjs");
  writeFileSync(
    codec,
    `export default {
  decode(bytes, version) {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return { version, value: JSON.parse(text) };
  },
};
`,
  );
  const decoded = await cliJson(["events", url, "account", "a-1", "--codec", codec]) as {
    encoding: string;
    payload: unknown;
  }[];
  assert.deepEqual(decoded[0], {
    ...decoded[0],
    encoding: "codec",
    payload: { version: 2, value: { deposited: 5 } },
  });
  const failed = await cli(["events", url, "account", "b.2", "--codec", codec]);
  assert.equal(failed.code, 1);
  assert.match(
    failed.stderr,
    /Cannot decode event 1 of "account\/b\.2" \(version 1\) with the codec/,
  );
});

test("snapshot shows the latest snapshot, and exits 1 for an entity without one", async () => {
  assert.deepEqual(await cliJson(["snapshot", url, "account", "a-1"]), {
    typeName: "account",
    id: "a-1",
    seqNo: 2,
    version: 1,
    encoding: "json",
    payload: { balance: 3 },
  });
  const none = await cli(["snapshot", url, "cart", "c-1"]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /No snapshot of "cart\/c-1"/);
});

test("projections lists offsets, and the lag behind a type's head with --type", async () => {
  const listed = await cliJson(["projections", url]) as Record<string, unknown>[];
  assert.equal(listed.length, 1);
  assert.equal(listed[0]!.name, "balances");
  assert.equal(listed[0]!.offset, 2);
  assert.equal("lag" in listed[0]!, false);
  const lagging = await cliJson(["projections", url, "--type", "account"]) as {
    lag: number;
  }[];
  assert.equal(lagging[0]!.lag, 2);
});

test("tail prints a type's events from --from and ends with exit 0 when aborted", async () => {
  const controller = new AbortController();
  let stdout = "";
  const { runCli } = await import("../cli/mod.ts");
  const done = runCli(["tail", url, "account", "--from", "1", "--json"], {
    stdout: {
      write: (text) => {
        stdout += text;
        if (stdout.split("\n").length > 4) controller.abort(new Error("enough"));
      },
    },
    stderr: { write: () => {} },
    signal: controller.signal,
  });
  assert.equal(await done, 0);
  const lines = stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(lines.map((e) => [e.id, e.seqNo, e.position]), [
    ["a-1", 1, 1],
    ["a-1", 2, 2],
    ["b.2", 1, 3],
    ["a-1", 3, 4],
  ]);
});

test("verify passes a sound log and reports events a codec cannot decode", async () => {
  const sound = await cliJson(["verify", url]) as { ok: boolean; events: number };
  assert.equal(sound.ok, true);
  assert.equal(sound.events, 5);
  const text = await cli(["verify", url]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^OK: 2 types, 3 entities, 5 events, 1 snapshots checked/);
  const strict = join(dir, "strict.mjs");
  writeFileSync(
    strict,
    `export default { eventFromBytes: (b) => JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(b)) };\n`,
  );
  const bad = await cli(["verify", url, "--codec", strict]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /^undecodable: .*account.*b\.2/m);
  assert.match(bad.stdout, /^PROBLEMS: /m);
});

test("reset-projection moves the offset; an unknown name changes nothing", async () => {
  const unknown = await cli(["reset-projection", url, "nope", "--yes"]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /No projection "nope" in the store \(known: "balances"\)/);
  assert.equal((await cliJson(["projections", url]) as unknown[]).length, 1);
  const reset = await cli(["reset-projection", url, "balances", "--to", "1", "--yes"]);
  assert.equal(reset.code, 0, reset.stderr);
  assert.equal(reset.stdout, 'Projection "balances": offset 2 -> 1\n');
  const [after] = await cliJson(["projections", url]) as { offset: number }[];
  assert.equal(after!.offset, 1);
  assert.deepEqual(await cliJson(["reset-projection", url, "balances", "--yes"]), {
    name: "balances",
    from: 1,
    to: 0,
  });
});

test("copy copies into a set-up PGlite store, resumes as a no-op, and refuses a store with other data", async () => {
  const target = `pglite:${join(dir, "copy")}`;
  const notSetUp = await cli(["copy", url, target]);
  assert.equal(notSetUp.code, 1);
  assert.match(notSetUp.stderr, /No PGlite data directory at ".*copy": run `eventsourced setup/);
  assert.equal(existsSync(join(dir, "copy")), false);
  assert.equal((await cli(["setup", target])).code, 0);
  const copied = await cli(["copy", url, target]);
  assert.equal(copied.code, 0, copied.stderr);
  assert.match(
    copied.stdout,
    /^Copied 5 events \(0 already there\) of 3 entities in 2 types, 1 snapshots, in \d+ ms; verified\n$/,
  );
  assert.match(copied.stderr, /copy: /);
  assert.deepEqual(await cliJson(["types", target]), await cliJson(["types", url]));
  assert.deepEqual(
    await cliJson(["events", target, "account", "a-1"]),
    await cliJson(["events", url, "account", "a-1"]),
  );
  const again = await cliJson(["copy", url, target]) as {
    copiedEvents: number;
    resumedEvents: number;
  };
  assert.equal(again.copiedEvents, 0);
  assert.equal(again.resumedEvents, 5);

  const other = `pglite:${join(dir, "other")}`;
  assert.equal((await cli(["setup", other])).code, 0);
  const db = await PGlite.create({ dataDir: join(dir, "other") });
  await new PgliteEventLog(db).persist("order", "o-1", null, [json("placed")]);
  await db.close();
  const refused = await cli(["copy", url, other]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /order/);
  assert.deepEqual(await cliJson(["types", other]), [
    { typeName: "order", entities: 1, events: 1, headPosition: 1 },
  ]);
});

test("read commands on a store without the schema say to run setup and create nothing", async () => {
  const bare = join(dir, "bare");
  mkdirSync(bare);
  for (const args of [["types"], ["ids", "t"], ["events", "t", "a"], ["projections"], ["verify"]]) {
    const [name, ...rest] = args;
    const result = await cli([name!, `pglite:${bare}`, ...rest]);
    assert.equal(result.code, 1, name);
    assert.equal(result.stdout, "", name);
    assert.match(result.stderr, /run `eventsourced setup pglite:.*bare` to create a store there/);
  }
  assert.deepEqual(readdirSync(bare), []);
});

test("a projection over several types: a row per type with its lag, reset of one type or all", async () => {
  // The offsets as a projection over accounts and carts stores them (one row per type).
  const db = await PGlite.create({ dataDir: join(dir, "store") });
  try {
    await db.query(`insert into eventsourced_type_offsets (name, type_name, position)
      values ('activity', 'account', 1), ('activity', 'cart', 0)`);
  } finally {
    await db.close();
  }
  const listed = await cliJson(["projections", url]) as Record<string, unknown>[];
  assert.deepEqual(listed.map((p) => [p.name, p.typeName, p.offset, p.lag]), [
    ["activity", "account", 1, 3],
    ["activity", "cart", 0, 1],
    ["balances", undefined, 0, null],
  ]);
  const text = await cli(["projections", url]);
  assert.equal(text.code, 0, text.stderr);
  const lines = text.stdout.split("\n").map((line) => line.split(/ +/));
  assert.deepEqual(lines[0], ["NAME", "TYPE", "OFFSET", "UPDATED", "LAG"]);
  assert.deepEqual([lines[1]![1], lines[1]![4], lines[2]![1], lines[2]![4]], [
    "account",
    "3",
    "cart",
    "1",
  ]);
  assert.deepEqual([lines[3]![1], lines[3]![4]], ["-", "-"]);
  const withType = await cliJson(["projections", url, "--type", "account"]) as { lag: number }[];
  assert.deepEqual(withType.map((p) => p.lag), [3, 1, 4]);

  const one = await cli([
    "reset-projection",
    url,
    "activity",
    "--type",
    "cart",
    "--to",
    "1",
    "--yes",
  ]);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(one.stdout, 'Projection "activity" type "cart": offset 0 -> 1\n');
  const unknownType = await cli(["reset-projection", url, "activity", "--type", "order", "--yes"]);
  assert.equal(unknownType.code, 1);
  assert.match(
    unknownType.stderr,
    /Projection "activity" has no offset of type "order" \(types: "account", "cart"\)/,
  );
  const single = await cli(["reset-projection", url, "balances", "--type", "account", "--yes"]);
  assert.equal(single.code, 1);
  assert.match(single.stderr, /no offset of type "account" \(types: none, it reads one type\)/);
  assert.deepEqual(await cliJson(["reset-projection", url, "activity", "--to", "2", "--yes"]), [
    { name: "activity", typeName: "account", from: 1, to: 2 },
    { name: "activity", typeName: "cart", from: 1, to: 2 },
  ]);
  const after = await cliJson(["projections", url]) as Record<string, unknown>[];
  assert.deepEqual(after.map((p) => [p.name, p.typeName, p.offset]), [
    ["activity", "account", 2],
    ["activity", "cart", 2],
    ["balances", undefined, 0],
  ]);
});
