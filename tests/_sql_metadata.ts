// Checks both SQL adapters run on versions and metadata, beyond the conformance suite: every way
// an append goes out (one event or a group-commit batch, as a plain statement or through the
// append functions) stores each persist's own metadata exactly, whatever its characters; events
// of one transaction share its writtenAt; rows without metadata store nulls; and pages still
// stop at their size in bytes when the metadata is what makes them large.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { SqlClient } from "../adapters/_sql/client.ts";
import { EMPTY_METADATA } from "../src/event_metadata.ts";
import { type EventLog, type EventMetadata, METADATA_LIMITS, type PersistedEvent } from "../mod.ts";
import { collect, uniqueTypeName } from "../testing/mod.ts";

/** What these checks need of an adapter, over one database set up with the default names. */
export interface SqlMetadataBackend {
  /** Runs SQL on the database directly. */
  readonly client: SqlClient;
  log(options?: { pageSize?: number }): EventLog & { close(): Promise<void> };
}

const bytes = (...values: number[]) => new Uint8Array(values);
// Rows as plain arrays (postgres.js returns an array subclass).
const plain = (rows: unknown[][]) => Array.from(rows, (row) => [...row]);

// Values that a quoting, escaping or decoding mistake anywhere on the way would change.
const TRICKY = [
  `it's "quoted" \\ back\\slash \\"`,
  "NULL",
  "null",
  "{a,b}",
  "[1,2]",
  '{"json":true}',
  "$1 %s ${x} ?",
  "ünïcödé 🙂 𝄞 中文",
  "\ufeffleading byte order mark",
  "line\u2028separator\u2029paragraph",
  "עברית ←RTL",
  "e\u0301 is not \u00e9",
  " spaced ",
  "🙂".repeat(METADATA_LIMITS.maxIdLength / 2),
];

/** Metadata number `i` of a run: each field present or not, with tricky values. */
function metadataOf(i: number): EventMetadata | undefined {
  if (i % 5 === 0) return undefined;
  const value = (k: number) => TRICKY[(i + k) % TRICKY.length]!;
  const metadata: { -readonly [K in keyof EventMetadata]: EventMetadata[K] } = {
    commandId: value(0),
  };
  if (i % 2 === 0) metadata.correlationId = value(1);
  if (i % 3 === 0) metadata.causationId = value(2);
  if (i % 4 !== 1) {
    metadata.headers = {
      "trace-parent": value(3),
      "123": value(4),
      constructor: value(5),
      "x.y_z-w": "",
      [`h${i}`]: `${i}`,
    };
  }
  return metadata;
}

const expected = (metadata: EventMetadata | undefined) => metadata ?? {};

function assertMetadata(
  events: readonly PersistedEvent[],
  given: (id: string) => EventMetadata | undefined,
) {
  for (const event of events) {
    const metadata = given(event.id);
    assert.deepEqual(
      { ...event.metadata },
      expected(metadata),
      `metadata of ${event.id}/${event.seqNo}`,
    );
    assert.ok(Object.isFrozen(event.metadata), "metadata is frozen");
    if (metadata === undefined) assert.equal(event.metadata, EMPTY_METADATA);
    if (event.metadata.headers !== undefined) {
      assert.ok(Object.isFrozen(event.metadata.headers), "headers are frozen");
      assert.equal(Object.getPrototypeOf(event.metadata.headers), Object.prototype);
    }
  }
}

/** Registers the metadata checks for the adapter `backend` returns. */
export function testSqlMetadata(name: string, backend: () => SqlMetadataBackend): void {
  const count = 48;
  const ids = Array.from({ length: count }, (_, i) => `e${i}`);
  const given = (id: string) => metadataOf(Number(id.slice(1)));
  // Entity i writes 1 to 3 events, at version 1 to 3.
  const eventsOf = (i: number) => Array.from({ length: 1 + (i % 3) }, (_, n) => bytes(i, n));
  const versionOf = (i: number) => 1 + (i % 3);

  // The four ways out: new entities need no check (plain statements where the adapter uses
  // them); entities that another log wrote are checked (the append functions). One at a time
  // goes out as one-event appends, all at once as a group-commit batch.
  for (const checked of [false, true]) {
    for (const together of [false, true]) {
      const way = `${together ? "a group-commit batch" : "one persist at a time"}, ${
        checked ? "checked" : "unchecked"
      }`;
      test(`${name}: each persist's metadata round-trips exactly (${way})`, {
        timeout: 60_000,
      }, async () => {
        const { client, log: open } = backend();
        const typeName = uniqueTypeName("metadata");
        const first = open();
        const log = open();
        try {
          let before = 0;
          if (checked) {
            // The entities exist, written by another log: this one must check them.
            await Promise.all(ids.map((id) => first.persist(typeName, id, null, [bytes(0)])));
            before = 1;
          }
          const persist = (id: string, i: number) =>
            log.persist(typeName, id, checked ? 1 : null, eventsOf(i), {
              metadata: given(id),
              version: versionOf(i),
            });
          if (together) await Promise.all(ids.map(persist));
          else for (const [i, id] of ids.entries()) await persist(id, i);

          const byType = (await collect(log.eventsByType(typeName, 0))).filter((e) =>
            e.seqNo > before
          );
          assert.equal(byType.length, ids.reduce((n, _, i) => n + eventsOf(i).length, 0));
          assertMetadata(byType, given);
          for (const event of byType) {
            const i = Number(event.id.slice(1));
            assert.equal(event.version, versionOf(i));
            assert.deepEqual([...event.bytes], [...eventsOf(i)[event.seqNo - before - 1]!]);
          }
          for (const [i, id] of ids.entries()) {
            const byId = await collect(log.eventsById(typeName, id, before + 1));
            assert.equal(byId.length, eventsOf(i).length);
            assertMetadata(byId, given);
            assert.deepEqual(byId.map((e) => e.version), byId.map(() => versionOf(i)));
          }
          if (together) {
            // One transaction for the whole batch (that is what makes it a group commit), and
            // one writtenAt for all its events.
            const rows = await client.query(
              `select count(distinct xmin::text)::int, count(distinct written_at)::int
                from eventsourced_events where type_name = $1::text and seq_no > $2::bigint`,
              [typeName, before],
            );
            assert.deepEqual(plain(rows), [[1, 1]]);
            assert.deepEqual(new Set(byType.map((e) => e.writtenAt)).size, 1);
          }
        } finally {
          await first.close();
          await log.close();
        }
      });
    }
  }

  test(`${name}: a batch mixing persists with and without metadata, and type names`, {
    timeout: 60_000,
  }, async () => {
    const { log: open } = backend();
    const log = open();
    try {
      const typeNames = [uniqueTypeName("mixed"), uniqueTypeName("mixed")];
      await Promise.all(
        ids.map((id, i) =>
          log.persist(typeNames[i % 2]!, id, null, eventsOf(i), { metadata: given(id) })
        ),
      );
      for (const typeName of typeNames) {
        const events = await collect(log.eventsByType(typeName, 0));
        assert.equal(
          events.length,
          ids.reduce(
            (n, _, i) => n + (i % 2 === typeNames.indexOf(typeName) ? eventsOf(i).length : 0),
            0,
          ),
        );
        assertMetadata(events, given);
      }
    } finally {
      await log.close();
    }
  });

  test(`${name}: rows without metadata store null columns and version 1`, {
    timeout: 60_000,
  }, async () => {
    const { client, log: open } = backend();
    const log = open();
    try {
      const typeName = uniqueTypeName("lean");
      await log.persist(typeName, "a", null, [bytes(1)]);
      await log.persist(typeName, "a", 1, [bytes(2), bytes(3)], { metadata: {}, version: 1 });
      await Promise.all(["b", "c"].map((id) => log.persist(typeName, id, null, [bytes(4)], {})));
      await log.persist(typeName, "d", null, [bytes(5)], { metadata: { commandId: "x" } });
      const rows = await client.query(
        `select id, version, command_id, correlation_id, causation_id, headers::text
          from eventsourced_events where type_name = $1::text order by position`,
        [typeName],
      );
      assert.deepEqual(plain(rows), [
        ["a", 1, null, null, null, null],
        ["a", 1, null, null, null, null],
        ["a", 1, null, null, null, null],
        ["b", 1, null, null, null, null],
        ["c", 1, null, null, null, null],
        ["d", 1, "x", null, null, null],
      ]);
    } finally {
      await log.close();
    }
  });

  test(`${name}: pages stop at their size in bytes when the metadata makes them large`, {
    timeout: 60_000,
  }, async () => {
    const { log: open } = backend();
    const log = open({ pageSize: 1000 });
    try {
      const typeName = uniqueTypeName("big-metadata");
      // About 48 KiB of UTF-8 per event, 120 events: more than one 4 MiB page.
      const headers = Object.fromEntries(
        Array.from({ length: METADATA_LIMITS.maxHeaders }, (_, h) => [
          `h${h}`,
          "€".repeat(METADATA_LIMITS.maxHeaderValueLength),
        ]),
      );
      const metadataAt = (n: number) => ({ commandId: `c${n}`, headers });
      let last: number | null = null;
      for (let n = 0; n < 120; n += 4) {
        last = await log.persist(typeName, "a", last, [
          bytes(n),
          bytes(n + 1),
          bytes(n + 2),
          bytes(n + 3),
        ], {
          metadata: metadataAt(n),
        });
      }
      for (
        const events of [
          await collect(log.eventsById(typeName, "a", 1)),
          await collect(log.eventsByType(typeName, 1)),
        ]
      ) {
        assert.deepEqual(events.map((e) => e.seqNo), Array.from({ length: 120 }, (_, n) => n + 1));
        for (const [n, event] of events.entries()) {
          assert.deepEqual({ ...event.metadata }, metadataAt(n - (n % 4)));
          assert.deepEqual([...event.bytes], [n]);
        }
      }
    } finally {
      await log.close();
    }
  });
}
