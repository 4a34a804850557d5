// A check both SQL adapters run: a database set up by the release of schema version 1, holding
// events and snapshots written the ways that release wrote them, is upgraded in place by this
// release's setup(); what it held reads as version 1 without metadata, written when it was
// written, and new writes carry versions and metadata beside it.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { SqlClient } from "../adapters/_sql/client.ts";
import { sqlNames } from "../adapters/_sql/names.ts";
import { EMPTY_METADATA } from "../src/event_metadata.ts";
import { type EventLog, isStorageError, type PersistedEvent, type SnapshotStore } from "../mod.ts";
import { collect } from "../testing/mod.ts";
import { VersionOneWriter } from "./_sql_v1.ts";

/** What the upgrade test needs of an adapter, over one database. */
export interface SqlUpgradeBackend {
  /** Runs SQL on the database directly. */
  readonly client: SqlClient;
  log(
    options: { tablePrefix: string },
  ): Required<Pick<EventLog, "deleteEvents" | "deleteEntity">> & EventLog & {
    setup(): Promise<void>;
    close(): Promise<void>;
  };
  snapshots(options: { tablePrefix: string }): SnapshotStore & { setup(): Promise<void> };
}

const bytes = (...values: number[]) => new Uint8Array(values);
// Rows as plain arrays (postgres.js returns an array subclass).
const plain = (rows: unknown[][]) => Array.from(rows, (row) => [...row]);
const shape = (events: readonly PersistedEvent[]) =>
  events.map((e) => [e.id, e.seqNo, e.position, [...e.bytes], e.version]);

/** Registers the upgrade test for the adapter `backend` returns. */
export function testSqlUpgrade(name: string, backend: () => SqlUpgradeBackend): void {
  test(`${name}: setup() upgrades a database of schema version 1 in place`, {
    timeout: 60_000,
  }, async () => {
    const { client, ...open } = backend();
    const tablePrefix = `v1_${Date.now().toString(36)}_`;
    const names = sqlNames({ tablePrefix });
    const v1 = new VersionOneWriter(client, names);
    await v1.setup();
    // Every way the version-1 release wrote: the group-commit function, the one-event function
    // and the bare INSERT at a known position; and a snapshot.
    await v1.append("cart", [["a", [bytes(1), bytes(2)]], ["b", [bytes(3)]]]);
    await v1.appendOne("cart", "a", 2, bytes(4));
    await v1.insertOne("cart", "b", 2, 5, bytes(5));
    await v1.saveSnapshot("cart", "a", 3, bytes(42));
    // Each row's written_at in microseconds, as text (exact on every server version).
    const stored = (await client.query(
      `select to_char(written_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')
        from ${names.events} order by position`,
      [],
    )).map((row) => Date.parse(`${String(row[0]).slice(0, 23)}Z`));

    const log = open.log({ tablePrefix });
    try {
      // Before setup(), what needs the new columns is refused, naming setup().
      const notUpgraded = (error: unknown) =>
        isStorageError(error) && error.reason === "schema-missing" &&
        /older than this release.*setup\(\)/.test(error.message);
      await assert.rejects(
        log.persist("cart", "z", null, [bytes(9)], { metadata: { commandId: "c" } }),
        notUpgraded,
      );
      await assert.rejects(collect(log.eventsById("cart", "a", 1)), notUpgraded);
      await assert.rejects(open.snapshots({ tablePrefix }).load("cart", "a"), notUpgraded);

      await log.setup();
      const versions = await client.query(
        `select version from ${names.schemaVersion} order by version`,
        [],
      );
      assert.deepEqual(versions.map((row) => Number(row[0])), [1, 2, 3]);
      // The version-1 functions stay beside the new ones, for processes of that release.
      const functions = await client.query(
        `select p.proname::text, p.pronargs::int from pg_proc as p
          join pg_namespace as n on n.oid = p.pronamespace
          where n.nspname = 'public' and p.proname in ($1::text, $2::text) order by 1`,
        [`${tablePrefix}append`, `${tablePrefix}append_one`],
      );
      assert.deepEqual(plain(functions).sort(), [
        [`${tablePrefix}append`, 13],
        [`${tablePrefix}append`, 18],
        [`${tablePrefix}append_one`, 11],
        [`${tablePrefix}append_one`, 6],
      ]);

      const old = await collect(log.eventsByType("cart", 0));
      assert.deepEqual(shape(old), [
        ["a", 1, 1, [1], 1],
        ["a", 2, 2, [2], 1],
        ["b", 1, 3, [3], 1],
        ["a", 3, 4, [4], 1],
        ["b", 2, 5, [5], 1],
      ]);
      for (const event of old) assert.equal(event.metadata, EMPTY_METADATA);
      // writtenAt is the time each row was stored, in whole milliseconds.
      assert.deepEqual(old.map((e) => e.writtenAt), stored);
      const byId = await collect(log.eventsById("cart", "a", 1));
      assert.deepEqual(shape(byId), shape(old.filter((e) => e.id === "a")));
      assert.deepEqual(
        byId.map((e) => e.writtenAt),
        old.filter((e) => e.id === "a").map((e) => e.writtenAt),
      );

      const snapshots = open.snapshots({ tablePrefix });
      const snapshot = await snapshots.load("cart", "a");
      assert.deepEqual([snapshot?.seqNo, snapshot?.version, [...snapshot!.bytes]], [3, 1, [42]]);

      // New writes after the old ones: checked (a log that did not write them), then plain.
      const metadata = { commandId: "c-new", correlationId: "order-1", headers: { user: "ada" } };
      assert.equal(await log.persist("cart", "a", 3, [bytes(6)], { metadata, version: 2 }), 4);
      assert.equal(await log.persist("cart", "a", 4, [bytes(7)]), 5);
      assert.equal(await log.persist("cart", "c", null, [bytes(8)], { metadata }), 1);
      await snapshots.save("cart", "a", 5, bytes(43), { version: 3 });
      // A process of the previous release, still running during a rolling upgrade, appends
      // through the old functions; its events read as version 1 without metadata.
      await v1.appendOne("cart", "a", 5, bytes(10));
      await v1.append("cart", [["d", [bytes(11)]]]);
      const all = await collect(log.eventsByType("cart", 0));
      assert.deepEqual(shape(all.slice(5)), [
        ["a", 4, 6, [6], 2],
        ["a", 5, 7, [7], 1],
        ["c", 1, 8, [8], 1],
        ["a", 6, 9, [10], 1],
        ["d", 1, 10, [11], 1],
      ]);
      assert.deepEqual(all.slice(5).map((e) => ({ ...e.metadata })), [
        metadata,
        {},
        metadata,
        {},
        {},
      ]);
      const times = all.filter((e) => e.id === "a").map((e) => e.writtenAt);
      assert.deepEqual(times, [...times].sort((x, y) => x - y));
      const newest = await snapshots.load("cart", "a");
      assert.deepEqual([newest?.seqNo, newest?.version, [...newest!.bytes]], [5, 3, [43]]);

      // A second setup() changes nothing.
      await log.setup();
      assert.equal(
        (await client.query(`select count(*)::int from ${names.schemaVersion}`, []))[0]![0],
        3,
      );
      assert.deepEqual(shape(await collect(log.eventsByType("cart", 0))), shape(all));

      // Deleting the type's newest entity leaves its positions to no one: the functions of
      // versions 1 and 2, replaced by version 3, number after the floor too.
      assert.equal(await log.deleteEntity("cart", "d"), 1);
      await v1.append("cart", [["e", [bytes(12)]]]);
      assert.equal(await log.deleteEntity("cart", "e"), 1);
      await v1.appendOne("cart", "a", 6, bytes(13));
      assert.equal(await log.deleteEvents("cart", "a", 7), 6);
      const checked = open.log({ tablePrefix });
      try {
        // A log that did not write "c" checks it: the version-2 one-event function.
        assert.equal(await checked.persist("cart", "c", 1, [bytes(14)], { version: 2 }), 2);
      } finally {
        await checked.close();
      }
      const kept = await collect(log.eventsByType("cart", 0));
      assert.deepEqual(kept.slice(-3).map((e) => [e.id, e.seqNo, e.position]), [
        ["c", 1, 8],
        ["a", 7, 12],
        ["c", 2, 13],
      ]);
    } finally {
      await log.close();
    }
  });
}
