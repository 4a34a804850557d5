/**
 * The conformance suite for {@linkcode EventLog} implementations: the rules of
 * `docs/event-log-rules.md` (shipped with the package; see the README section "The rules every
 * event log keeps"), as `node:test` tests, so each adapter (and yours) runs the
 * same checks on Deno, Bun and Node.
 *
 * @module
 */

import { functionOption, integerAtLeast, readOptions } from "../src/_options.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import type { EventLog, PersistedEvent } from "../src/event_log.ts";
import { isConcurrencyError } from "../src/errors.ts";
import { collect, take, uniqueTypeName, within } from "./_collect.ts";
import { deletionChecks } from "./_event_log_deletion.ts";

/**
 * Options of {@linkcode testEventLog}.
 *
 * @example Options for a backend with its own connections
 * ```ts
 * import type { EventLogSuiteOptions } from "@eventsourced/eventsourced/testing";
 * import { MemoryEventLog } from "@eventsourced/eventsourced";
 *
 * const options: EventLogSuiteOptions = {
 *   sameStorage: (log) => log,
 *   dispose: () => {},
 *   timeout: 10_000,
 *   deletion: true,
 * };
 * options.dispose?.(new MemoryEventLog());
 * ```
 */
export interface EventLogSuiteOptions {
  /** Releases a log made by the factory after each test. */
  dispose?: (eventLog: EventLog) => void | Promise<void>;
  /**
   * Opens a second, independent log (own connection or pool) over the same storage as
   * `eventLog`, for the tests of competing writers. Default: `eventLog` itself.
   */
  sameStorage?: (eventLog: EventLog) => EventLog | Promise<EventLog>;
  /** Per-test timeout in ms; default 30 000. */
  timeout?: number;
  /**
   * Whether the log implements `deleteEvents` and `deleteEntity`, whose tests then run.
   * Default `true`: a log without them fails those tests; pass `false` for a log that does not
   * offer deletion, and `"whole-persists"` for a log that deletes the events of one persist
   * only together (the tests then write each event with a persist of its own).
   */
  deletion?: boolean | "whole-persists";
}

const bytes = (...values: number[]) => new Uint8Array(values);
const seqNos = (events: readonly PersistedEvent[]) => events.map((e) => e.seqNo);
const payloads = (events: readonly PersistedEvent[]) => events.map((e) => [...e.bytes]);

function assertStrictlyIncreasing(positions: readonly number[]): void {
  for (let i = 1; i < positions.length; i++) {
    assert.ok(
      positions[i]! > positions[i - 1]!,
      `position ${positions[i]} follows ${positions[i - 1]}: positions must strictly increase`,
    );
  }
}

/**
 * Registers the event log conformance tests under `name`. `factory` makes a log for one test;
 * tests use type names of their own, so a factory may return logs over one shared database.
 * The rules checked are those of `docs/event-log-rules.md` (shipped with the package; see the
 * README section "The rules every event log keeps").
 *
 * @example Run the suite against the memory log
 * ```ts ignore
 * import { MemoryEventLog } from "@eventsourced/eventsourced";
 * import { testEventLog } from "@eventsourced/eventsourced/testing";
 *
 * testEventLog("MemoryEventLog", () => new MemoryEventLog());
 * ```
 */
export function testEventLog(
  name: string,
  factory: () => EventLog | Promise<EventLog>,
  given?: EventLogSuiteOptions,
): void {
  const options = readOptions<EventLogSuiteOptions>("testEventLog", given, {
    dispose: functionOption(undefined),
    sameStorage: functionOption(undefined),
    timeout: integerAtLeast(1, 30_000),
    deletion: {
      default: true,
      valid: (value: unknown) => typeof value === "boolean" || value === "whole-persists",
      expected: 'true, false or "whole-persists"',
    },
  });
  const timeout = options.timeout!;
  const check = (title: string, body: (log: EventLog) => Promise<void>) => {
    test(`${name}: ${title}`, { timeout }, async () => {
      const log = await factory();
      try {
        await body(log);
      } finally {
        await options.dispose?.(log);
      }
    });
  };

  check("persist to a new entity returns the last seqNo and lastSeqNo reports it", async (log) => {
    const typeName = uniqueTypeName();
    assert.equal(await log.lastSeqNo(typeName, "a"), null);
    assert.equal(await log.persist(typeName, "a", null, [bytes(1)]), 1);
    assert.equal(await log.lastSeqNo(typeName, "a"), 1);
    assert.equal(await log.persist(typeName, "a", 1, [bytes(2), bytes(3), bytes(4)]), 4);
    assert.equal(await log.lastSeqNo(typeName, "a"), 4);
  });

  check("seqNos are dense per entity, starting at 1", async (log) => {
    const typeName = uniqueTypeName();
    await log.persist(typeName, "a", null, [bytes(1), bytes(2)]);
    await log.persist(typeName, "b", null, [bytes(9)]);
    await log.persist(typeName, "a", 2, [bytes(3)]);
    assert.deepEqual(seqNos(await collect(log.eventsById(typeName, "a", 1))), [1, 2, 3]);
    assert.deepEqual(seqNos(await collect(log.eventsById(typeName, "b", 1))), [1]);
  });

  check("bytes come back exactly, including empty and every byte value", async (log) => {
    const typeName = uniqueTypeName();
    const all = new Uint8Array(256).map((_, i) => i);
    await log.persist(typeName, "a", null, [all, new Uint8Array(0), bytes(0, 0, 0)]);
    const events = await collect(log.eventsById(typeName, "a", 1));
    assert.deepEqual(payloads(events), [[...all], [], [0, 0, 0]]);
    assert.ok(events.every((e) => e.bytes instanceof Uint8Array));
    assert.ok(events.every((e) => e.typeName === typeName && e.id === "a"));
  });

  check("changing bytes after persist or after a read never changes the log", async (log) => {
    const typeName = uniqueTypeName();
    const given = [bytes(1, 2), bytes(3)];
    await log.persist(typeName, "a", null, given);
    given[0]![0] = 99;
    given[1]![0] = 99;
    const byId = await collect(log.eventsById(typeName, "a", 1));
    assert.deepEqual(payloads(byId), [[1, 2], [3]], "the log copied what persist was given");
    for (const event of byId) event.bytes.fill(77);
    const byType = await collect(log.eventsByType(typeName, 0));
    assert.deepEqual(payloads(byType), [[1, 2], [3]], "a reader's bytes are its own");
    for (const event of byType) event.bytes.fill(66);
    assert.deepEqual(payloads(await collect(log.eventsById(typeName, "a", 1))), [[1, 2], [3]]);
    assert.deepEqual(payloads(await collect(log.eventsByType(typeName, 0))), [[1, 2], [3]]);
  });

  check(
    "persist rejects a stale lastSeqNo with ConcurrencyError and leaves the log unchanged",
    async (log) => {
      const typeName = uniqueTypeName();
      await log.persist(typeName, "a", null, [bytes(1), bytes(2)]);
      const error = await log.persist(typeName, "a", 1, [bytes(3), bytes(4)]).catch((e) => e);
      assert.ok(isConcurrencyError(error), `expected ConcurrencyError, got ${error}`);
      assert.equal(error.typeName, typeName);
      assert.equal(error.id, "a");
      assert.equal(error.expected, 1);
      assert.equal(error.actual, 2);
      assert.equal(await log.lastSeqNo(typeName, "a"), 2);
      assert.deepEqual(payloads(await collect(log.eventsById(typeName, "a", 1))), [[1], [2]]);
      assert.deepEqual(seqNos(await collect(log.eventsByType(typeName, 0))), [1, 2]);
    },
  );

  check("persist with lastSeqNo null on an existing entity is a conflict", async (log) => {
    const typeName = uniqueTypeName();
    await log.persist(typeName, "a", null, [bytes(1)]);
    const error = await log.persist(typeName, "a", null, [bytes(2)]).catch((e) => e);
    assert.ok(isConcurrencyError(error), `expected ConcurrencyError, got ${error}`);
    assert.equal(error.expected, null);
    assert.deepEqual(payloads(await collect(log.eventsById(typeName, "a", 1))), [[1]]);
  });

  check(
    "persist with a lastSeqNo beyond the head is a conflict and writes nothing",
    async (log) => {
      const typeName = uniqueTypeName();
      const error = await log.persist(typeName, "a", 3, [bytes(1)]).catch((e) => e);
      assert.ok(isConcurrencyError(error), `expected ConcurrencyError, got ${error}`);
      assert.equal(await log.lastSeqNo(typeName, "a"), null);
      await log.persist(typeName, "a", null, [bytes(1)]);
      const again = await log.persist(typeName, "a", 5, [bytes(2)]).catch((e) => e);
      assert.ok(isConcurrencyError(again), `expected ConcurrencyError, got ${again}`);
      assert.equal(await log.lastSeqNo(typeName, "a"), 1);
    },
  );

  check(
    "competing writers: exactly one persist per seqNo wins and the history never forks",
    async (log) => {
      const typeName = uniqueTypeName();
      const other = options.sameStorage ? await options.sameStorage(log) : log;
      try {
        const rounds = 5;
        for (let round = 0; round < rounds; round++) {
          const last = round === 0 ? null : 2 * round;
          const results = await Promise.allSettled(
            [log, other, log, other].map((writer, i) =>
              writer.persist(typeName, "a", last, [bytes(round, i), bytes(round, i, 1)])
            ),
          );
          const winners = results.flatMap((r, i) => r.status === "fulfilled" ? [i] : []);
          assert.equal(winners.length, 1, `round ${round}: ${winners.length} writers won`);
          for (const r of results) {
            if (r.status === "rejected") assert.ok(isConcurrencyError(r.reason), String(r.reason));
          }
          const events = await collect(other.eventsById(typeName, "a", 2 * round + 1));
          assert.deepEqual(payloads(events), [[round, winners[0]!], [round, winners[0]!, 1]]);
        }
        const expected = Array.from({ length: 2 * rounds }, (_, i) => i + 1);
        assert.deepEqual(seqNos(await collect(log.eventsById(typeName, "a", 1))), expected);
        assert.deepEqual(seqNos(await collect(other.eventsByType(typeName, 0))), expected);
      } finally {
        if (other !== log) await options.dispose?.(other);
      }
    },
  );

  check("several events of one persist are written all or none", async (log) => {
    const typeName = uniqueTypeName();
    await log.persist(typeName, "a", null, [bytes(1)]);
    const many = Array.from({ length: 50 }, (_, i) => bytes(i));
    const conflict = await log.persist(typeName, "a", null, many).catch((e) => e);
    assert.ok(isConcurrencyError(conflict));
    assert.equal((await collect(log.eventsByType(typeName, 0))).length, 1);
    assert.equal(await log.persist(typeName, "a", 1, many), 51);
    const byType = await collect(log.eventsByType(typeName, 0));
    assert.deepEqual(seqNos(byType), Array.from({ length: 51 }, (_, i) => i + 1));
    assertStrictlyIncreasing(byType.map((e) => e.position));
  });

  check("entities of different typeNames never collide", async (log) => {
    const first = uniqueTypeName("x");
    const second = uniqueTypeName("y");
    await log.persist(first, "same", null, [bytes(1)]);
    await log.persist(second, "same", null, [bytes(2), bytes(3)]);
    assert.equal(await log.lastSeqNo(first, "same"), 1);
    assert.equal(await log.lastSeqNo(second, "same"), 2);
    assert.deepEqual(payloads(await collect(log.eventsById(first, "same", 1))), [[1]]);
    assert.deepEqual(payloads(await collect(log.eventsByType(second, 0))), [[2], [3]]);
    assert.ok((await collect(log.eventsByType(first, 0))).every((e) => e.typeName === first));
  });

  check(
    "ids with dots, wildcards, spaces, slashes, quotes and non-ASCII stay apart and exact",
    async (log) => {
      const typeName = uniqueTypeName();
      const ids = [
        "a",
        "A",
        "a.b",
        "a*",
        "a>",
        "*",
        ">",
        "a b",
        "a/b",
        "ü",
        "日本",
        "'; --",
        '"q"',
        "a_b",
        "😀",
      ];
      for (const [i, id] of ids.entries()) await log.persist(typeName, id, null, [bytes(i)]);
      for (const [i, id] of ids.entries()) {
        const events = await collect(log.eventsById(typeName, id, 1));
        assert.deepEqual(
          events.map((e) => [e.id, [...e.bytes]]),
          [[id, [i]]],
          `id ${JSON.stringify(id)}`,
        );
      }
      const byType = await collect(log.eventsByType(typeName, 0));
      assert.deepEqual(byType.map((e) => e.id), ids);
    },
  );

  check("eventsById starts at fromSeqNo inclusive and is empty past the head", async (log) => {
    const typeName = uniqueTypeName();
    await log.persist(typeName, "a", null, [bytes(1), bytes(2), bytes(3), bytes(4)]);
    assert.deepEqual(seqNos(await collect(log.eventsById(typeName, "a", 3))), [3, 4]);
    assert.deepEqual(seqNos(await collect(log.eventsById(typeName, "a", 0))), [1, 2, 3, 4]);
    assert.deepEqual(await collect(log.eventsById(typeName, "a", 5)), []);
    assert.deepEqual(await collect(log.eventsById(typeName, "unknown", 1)), []);
  });

  check(
    "eventsByType returns every event once, in strictly increasing positions, from fromPosition inclusive",
    async (log) => {
      const typeName = uniqueTypeName();
      await log.persist(typeName, "a", null, [bytes(1), bytes(2)]);
      await log.persist(typeName, "b", null, [bytes(3)]);
      await log.persist(typeName, "a", 2, [bytes(4)]);
      const all = await collect(log.eventsByType(typeName, 0));
      assert.deepEqual(payloads(all), [[1], [2], [3], [4]]);
      assertStrictlyIncreasing(all.map((e) => e.position));
      const third = all[2]!.position;
      const rest = await collect(log.eventsByType(typeName, third));
      assert.deepEqual(payloads(rest), [[3], [4]]);
      assert.deepEqual(await collect(log.eventsByType(typeName, all[3]!.position + 1)), []);
    },
  );

  check("finite reads end at the head as of the call", async (log) => {
    const typeName = uniqueTypeName();
    await log.persist(typeName, "a", null, [bytes(1), bytes(2)]);
    const byId = log.eventsById(typeName, "a", 1).getReader();
    const byType = log.eventsByType(typeName, 0).getReader();
    assert.equal((await byId.read()).value?.seqNo, 1);
    assert.equal((await byType.read()).value?.seqNo, 1);
    await log.persist(typeName, "a", 2, [bytes(3)]);
    await log.persist(typeName, "b", null, [bytes(4)]);
    const restById = [];
    for (let next = await byId.read(); !next.done; next = await byId.read()) {
      restById.push(next.value.seqNo);
    }
    const restByType = [];
    for (let next = await byType.read(); !next.done; next = await byType.read()) {
      restByType.push(next.value.seqNo);
    }
    assert.deepEqual(restById, [2]);
    assert.deepEqual(restByType, [2]);
  });

  check("live eventsById and eventsByType go on with later writes", async (log) => {
    const typeName = uniqueTypeName();
    await log.persist(typeName, "a", null, [bytes(1)]);
    const byId = take(log.eventsById(typeName, "a", 1, { live: true }), 3);
    const byType = take(log.eventsByType(typeName, 0, { live: true }), 4);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await log.persist(typeName, "a", 1, [bytes(2)]);
    await log.persist(typeName, "b", null, [bytes(3)]);
    await log.persist(typeName, "a", 2, [bytes(4)]);
    assert.deepEqual(payloads(await byId), [[1], [2], [4]]);
    const typeEvents = await byType;
    assert.deepEqual(payloads(typeEvents), [[1], [2], [3], [4]]);
    assertStrictlyIncreasing(typeEvents.map((e) => e.position));
  });

  check("a live read of a new entity waits for its first event", async (log) => {
    const typeName = uniqueTypeName();
    const first = take(log.eventsById(typeName, "new", 1, { live: true }), 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await log.persist(typeName, "new", null, [bytes(7)]);
    assert.deepEqual(payloads(await first), [[7]]);
  });

  check("abort ends a waiting live read with the signal's reason", async (log) => {
    const typeName = uniqueTypeName();
    await log.persist(typeName, "a", null, [bytes(1)]);
    for (
      const open of [
        (signal: AbortSignal) => log.eventsByType(typeName, 0, { live: true, signal }),
        (signal: AbortSignal) => log.eventsById(typeName, "a", 1, { live: true, signal }),
      ]
    ) {
      const controller = new AbortController();
      const reader = open(controller.signal).getReader();
      assert.equal((await reader.read()).value?.seqNo, 1);
      const pending = reader.read();
      setTimeout(() => controller.abort(new Error("stop reading")), 20);
      const error = await within(pending.then(() => null, (e) => e), 5_000, "aborted read");
      assert.ok(error instanceof Error && error.message === "stop reading", `got ${error}`);
    }
    // The log still works after the reads were released.
    assert.equal(await log.persist(typeName, "a", 1, [bytes(2)]), 2);
  });

  check("an already aborted signal errors the read at once", async (log) => {
    const typeName = uniqueTypeName();
    await log.persist(typeName, "a", null, [bytes(1)]);
    const signal = AbortSignal.abort(new Error("too late"));
    const error = await within(
      collect(log.eventsByType(typeName, 0, { signal })).then(() => null, (e) => e),
      5_000,
      "read with an aborted signal",
    );
    assert.ok(error instanceof Error && error.message === "too late", `got ${error}`);
  });

  check("cancel releases a live read", async (log) => {
    const typeName = uniqueTypeName();
    await log.persist(typeName, "a", null, [bytes(1)]);
    const reader = log.eventsByType(typeName, 0, { live: true }).getReader();
    assert.equal((await reader.read()).value?.seqNo, 1);
    const pending = reader.read();
    await within(reader.cancel(), 5_000, "cancel of a live read");
    assert.deepEqual(await within(pending, 5_000, "pending read after cancel"), {
      done: true,
      value: undefined,
    });
    assert.equal(await log.persist(typeName, "a", 1, [bytes(2)]), 2);
  });

  check(
    "a live reader sees every event once in position order while writers run concurrently",
    async (log) => {
      const typeName = uniqueTypeName();
      const writers = 8;
      const perWriter = 10;
      const total = writers * perWriter;
      const seen = take(log.eventsByType(typeName, 0, { live: true }), total, 60_000);
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let i = 0; i < perWriter; i++) {
            await log.persist(typeName, `w${w}`, i === 0 ? null : i, [bytes(w, i)]);
          }
        }),
      );
      const events = await seen;
      assertStrictlyIncreasing(events.map((e) => e.position));
      const keys = new Set(events.map((e) => `${e.id}/${e.seqNo}`));
      assert.equal(keys.size, total, "every event exactly once");
      for (let w = 0; w < writers; w++) {
        const own = events.filter((e) => e.id === `w${w}`).map((e) => e.seqNo);
        assert.deepEqual(own, Array.from({ length: perWriter }, (_, i) => i + 1));
      }
      const finite = await collect(log.eventsByType(typeName, 0));
      assert.deepEqual(
        finite.map((e) => e.position),
        events.map((e) => e.position),
        "a later finite read returns the same positions",
      );
    },
  );

  check("bad arguments are refused before any write", async (log) => {
    const typeName = uniqueTypeName();
    const refuse = async (promise: () => Promise<unknown>, pattern: RegExp) => {
      const error = await Promise.resolve().then(promise).then(() => null, (e) => e);
      assert.ok(error instanceof TypeError || error instanceof RangeError, `got ${error}`);
      assert.match(error.message, pattern);
    };
    await refuse(() => log.persist("bad name", "a", null, [bytes(1)]), /typeName/);
    await refuse(() => log.persist(typeName, "", null, [bytes(1)]), /id/);
    await refuse(() => log.persist(typeName, "a", 0, [bytes(1)]), /lastSeqNo/);
    await refuse(() => log.persist(typeName, "a", 1.5, [bytes(1)]), /lastSeqNo/);
    await refuse(() => log.persist(typeName, "a", null, []), /events/);
    await refuse(
      () => log.persist(typeName, "a", null, ["x" as unknown as Uint8Array]),
      /events/,
    );
    assert.equal(await log.lastSeqNo(typeName, "a"), null);
  });

  check("metadata and version round-trip exactly on every read", async (log) => {
    const typeName = uniqueTypeName();
    const metadata = {
      commandId: "c-1 ünïcödé 🙂",
      correlationId: "order/7?x=1&y=%20",
      causationId: "a\"quoted\" 'value'",
      headers: { "trace-parent": "00-abc-def-01", empty: "", "x.y_z": "line: value; more" },
    };
    await log.persist(typeName, "a", null, [bytes(1), bytes(2)], { metadata, version: 3 });
    await log.persist(typeName, "b", null, [bytes(3)], { metadata: { correlationId: "only" } });
    for (
      const events of [
        await collect(log.eventsById(typeName, "a", 1)),
        (await collect(log.eventsByType(typeName, 0))).filter((e) => e.id === "a"),
      ]
    ) {
      assert.deepEqual(events.map((e) => e.version), [3, 3]);
      for (const event of events) assert.deepEqual({ ...event.metadata }, metadata);
    }
    const [b] = await collect(log.eventsById(typeName, "b", 1));
    assert.equal(b!.version, 1);
    assert.deepEqual({ ...b!.metadata }, { correlationId: "only" });
    const live = await take(log.eventsByType(typeName, 0, { live: true }), 3);
    assert.deepEqual(live.map((e) => [e.id, e.version, e.metadata.correlationId]), [
      ["a", 3, metadata.correlationId],
      ["a", 3, metadata.correlationId],
      ["b", 1, "only"],
    ]);
  });

  check("events written without metadata read back with version 1 and {}", async (log) => {
    const typeName = uniqueTypeName();
    await log.persist(typeName, "a", null, [bytes(1)]);
    await log.persist(typeName, "a", 1, [bytes(2)], {});
    await log.persist(typeName, "a", 2, [bytes(3)], { metadata: {}, version: 1 });
    await log.persist(typeName, "a", 3, [bytes(4)], { metadata: { headers: {} } });
    const events = await collect(log.eventsById(typeName, "a", 1));
    assert.deepEqual(events.map((e) => e.version), [1, 1, 1, 1]);
    for (const event of events) assert.deepEqual({ ...event.metadata }, {});
  });

  check("writtenAt is a time near now that never goes back within an entity", async (log) => {
    const typeName = uniqueTypeName();
    const before = Date.now();
    let last: number | null = null;
    for (let i = 0; i < 20; i++) last = await log.persist(typeName, "a", last, [bytes(i)]);
    const after = Date.now();
    const events = await collect(log.eventsById(typeName, "a", 1));
    const times = events.map((e) => e.writtenAt);
    for (let i = 1; i < times.length; i++) {
      assert.ok(times[i]! >= times[i - 1]!, `writtenAt ${times[i]} follows ${times[i - 1]}`);
    }
    // The server's clock may differ a little from this process's: a minute either way.
    assert.ok(times.every((t) => Number.isFinite(t) && t > before - 60_000 && t < after + 60_000));
    const byType = await collect(log.eventsByType(typeName, 0));
    assert.deepEqual(byType.map((e) => e.writtenAt), times);
  });

  check("bad metadata and versions are refused before any write", async (log) => {
    const typeName = uniqueTypeName();
    const refuse = async (options: unknown, pattern: RegExp) => {
      const error = await Promise.resolve()
        .then(() => log.persist(typeName, "a", null, [bytes(1)], options as never))
        .then(() => null, (e) => e);
      assert.ok(error instanceof TypeError || error instanceof RangeError, `got ${error}`);
      assert.match(error.message, pattern);
    };
    await refuse({ version: 0 }, /version/);
    await refuse({ version: 1.5 }, /version/);
    await refuse({ version: 2 ** 31 }, /version/);
    await refuse({ metadata: { commandId: "" } }, /commandId/);
    await refuse({ metadata: { commandId: "x".repeat(257) } }, /commandId/);
    await refuse({ metadata: { correlationId: "a\nb" } }, /correlationId.*control/);
    await refuse({ metadata: { causationId: "\ud800" } }, /causationId.*surrogate/);
    await refuse({ metadata: { causationId: 7 } }, /causationId/);
    await refuse({ metadata: { headers: { "bad name": "x" } } }, /header name/);
    await refuse({ metadata: { headers: { ok: "a\u0000b" } } }, /header/);
    await refuse({ metadata: { headers: { ok: 1 } } }, /header/);
    await refuse({ metadata: { headers: { ok: "x".repeat(1025) } } }, /header/);
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`h${i}`, "x"]));
    await refuse({ metadata: { headers: many } }, /headers/);
    await refuse({ metadata: { userId: "x" } }, /unknown key/);
    await refuse({ metadata: "x" }, /metadata/);
    await refuse({ colour: "red" }, /colour/);
    assert.equal(await log.lastSeqNo(typeName, "a"), null);
  });

  if (options.deletion !== false) deletionChecks(check, options.deletion === "whole-persists");
}
