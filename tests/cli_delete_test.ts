// The command-line tool's delete-events and delete-entity on a PGlite data directory, in-process
// through runCli: --yes is required, refusals delete nothing, and what is deleted is gone.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PgliteEventLog, PgliteSnapshotStore } from "../adapters/pglite/mod.ts";
import { collect } from "../testing/mod.ts";
import { cli, cliJson } from "./_cli_run.ts";

let dir: string;
let url: string;
const bytes = (n: number) => new Uint8Array([n]);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "eventsourced-cli-delete-"));
  url = `pglite:${join(dir, "store")}`;
  const setup = await cli(["setup", url]);
  assert.equal(setup.code, 0, setup.stderr);
  await withStore(async (log, snapshots) => {
    await log.persist("account", "a", null, [bytes(1), bytes(2), bytes(3), bytes(4)]);
    await snapshots.save("account", "a", 3, bytes(0));
    await log.persist("account", "b", null, [bytes(5), bytes(6)]);
    await snapshots.save("account", "b", 2, bytes(0));
  });
}, { timeout: 60_000 });

after(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

async function withStore<T>(
  use: (log: PgliteEventLog, snapshots: PgliteSnapshotStore) => Promise<T>,
): Promise<T> {
  const db = await PGlite.create({ dataDir: join(dir, "store") });
  try {
    return await use(new PgliteEventLog(db), new PgliteSnapshotStore(db));
  } finally {
    await db.close();
  }
}

const seqNos = (id: string) =>
  withStore(async (log) => (await collect(log.eventsById("account", id, 1))).map((e) => e.seqNo));

test("delete-events and delete-entity refuse without --yes, deleting nothing", async () => {
  for (const command of ["delete-events", "delete-entity"]) {
    const refused = await cli([command, url, "account", "a"]);
    assert.equal(refused.code, 2, command);
    assert.match(refused.stderr, /--yes/, command);
  }
  assert.deepEqual(await seqNos("a"), [1, 2, 3, 4]);
});

test("delete-events refuses what the snapshot does not cover, then deletes up to it", async () => {
  const refused = await cli(["delete-events", url, "account", "a", "--to", "4", "--yes"]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /its snapshot is at seqNo 3, which does not cover them/);
  assert.deepEqual(await seqNos("a"), [1, 2, 3, 4]);

  const partial = await cli(["delete-events", url, "account", "a", "--to", "1", "--yes"]);
  assert.equal(partial.code, 0, partial.stderr);
  assert.equal(
    partial.stdout,
    'Entity "account/a": 1 event deleted up to seqNo 1 (its last event stays)\n',
  );
  assert.deepEqual(await cliJson(["delete-events", url, "account", "a", "--yes"]), {
    typeName: "account",
    id: "a",
    deleted: 2,
    toSeqNo: 3,
  });
  assert.deepEqual(await seqNos("a"), [4]);
});

test("delete-entity deletes the snapshot and every event; the id is free", async () => {
  const deleted = await cli(["delete-entity", url, "account", "b", "--yes"]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(deleted.stdout, 'Entity "account/b" deleted: 2 events and its snapshot\n');
  await withStore(async (log, snapshots) => {
    assert.equal(await log.lastSeqNo("account", "b"), null);
    assert.equal(await snapshots.load("account", "b"), null);
    assert.equal(await log.persist("account", "b", null, [bytes(7)]), 1);
  });
  assert.deepEqual(await cliJson(["delete-entity", url, "account", "nobody", "--yes"]), {
    typeName: "account",
    id: "nobody",
    deleted: 0,
  });
});
