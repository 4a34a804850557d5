// The versioned schema shared by the SQL adapters, on PGlite (the same SQL as PostgreSQL): one
// setup() of any of the log, snapshot store and offset store creates every table, and the
// upgrade mechanism applies each step above the recorded version exactly once.

import { test } from "node:test";
import assert from "node:assert/strict";
import { PGlite } from "@electric-sql/pglite";
import {
  PgliteEventLog,
  PgliteOffsetStore,
  PgliteSnapshotStore,
  SCHEMA_VERSION,
} from "../adapters/pglite/mod.ts";
import { sqlNames } from "../adapters/_sql/names.ts";
import { type SchemaUpgrade, setupScript, UPGRADES } from "../adapters/_sql/schema.ts";
import { isStorageError } from "../mod.ts";
import { collect } from "../testing/mod.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

async function tables(db: PGlite, schema = "public"): Promise<string[]> {
  const { rows } = await db.query<{ table_name: string }>(
    "select table_name from information_schema.tables where table_schema = $1 order by 1",
    [schema],
  );
  return rows.map((row) => row.table_name);
}

async function versions(db: PGlite, prefix = "eventsourced_"): Promise<number[]> {
  const { rows } = await db.query<{ version: number }>(
    `select version from ${prefix}schema_version order by version`,
  );
  return rows.map((row) => row.version);
}

test("one setup() of the log, the snapshot store or the offset store creates every table", async () => {
  assert.equal(SCHEMA_VERSION, 3);
  for (
    const make of [
      (db: PGlite) => new PgliteEventLog(db),
      (db: PGlite) => new PgliteSnapshotStore(db),
      (db: PGlite) => new PgliteOffsetStore(db),
    ]
  ) {
    const db = await PGlite.create();
    try {
      await make(db).setup();
      await make(db).setup();
      assert.deepEqual(await tables(db), [
        "eventsourced_events",
        "eventsourced_keys",
        "eventsourced_position_floors",
        "eventsourced_projection_offsets",
        "eventsourced_schema_version",
        "eventsourced_snapshots",
        "eventsourced_type_offsets",
      ]);
      assert.deepEqual(await versions(db), [1, 2, 3]);
      const log = new PgliteEventLog(db);
      assert.equal(await log.persist("cart", "c-1", null, [bytes(1)]), 1);
      assert.equal(await new PgliteOffsetStore(db).load("totals"), 0);
      await log.close();
    } finally {
      await db.close();
    }
  }
});

test("setup() applies each upgrade step above the recorded version once, and keeps the events", async () => {
  const db = await PGlite.create();
  try {
    const log = new PgliteEventLog(db, { tablePrefix: "up_" });
    await log.setup();
    await log.persist("cart", "c-1", null, [bytes(1), bytes(2)]);
    const names = sqlNames({ tablePrefix: "up_" });
    // A step that fails when run twice (the column exists then), so a second run proves "once".
    const step: SchemaUpgrade = {
      version: UPGRADES.length + 2,
      sql: (n) => `alter table ${n.events} add column note text;`,
    };
    await db.exec(setupScript(names, [...UPGRADES, step]));
    await db.exec(setupScript(names, [...UPGRADES, step]));
    assert.deepEqual(await versions(db, "up_"), [1, 2, 3, 4]);
    const { rows } = await db.query<{ column_name: string }>(
      "select column_name from information_schema.columns where table_name = 'up_events' and column_name = 'note'",
    );
    assert.equal(rows.length, 1);
    assert.equal(await log.persist("cart", "c-1", 2, [bytes(3)]), 3);
    const events = await collect(log.eventsById("cart", "c-1", 1));
    assert.deepEqual(events.map((e) => [e.seqNo, e.position, [...e.bytes]]), [
      [1, 1, [1]],
      [2, 2, [2]],
      [3, 3, [3]],
    ]);

    // This release (version 3) refuses the schema a newer one upgraded.
    const error = await new PgliteEventLog(db, { tablePrefix: "up_" }).setup().catch((e) => e);
    assert.ok(isStorageError(error), String(error));
    assert.equal(error.reason, "invalid-configuration");
    assert.match(error.message, /Cannot set up the event log.*version 4.*up to version 3/);
    await log.close();
  } finally {
    await db.close();
  }
});

test("upgrade steps must be numbered from 2 without gaps", () => {
  const names = sqlNames();
  assert.throws(
    () => setupScript(names, [...UPGRADES, { version: 5, sql: () => "" }]),
    /leads to version 5, expected 4/,
  );
});
