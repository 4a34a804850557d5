// The deletion tests of the event log conformance suite: `deleteEvents` and `deleteEntity`
// (docs/event-log-rules.md, "Deleting"). A log without the methods fails them: a suite that
// skipped them would pass a log that cannot forget.

import assert from "node:assert/strict";
import type { EventLog, PersistedEvent, PersistOptions } from "../src/event_log.ts";
import { isConcurrencyError } from "../src/errors.ts";
import { collect, take, uniqueTypeName, within } from "./_collect.ts";

type Check = (title: string, body: (log: EventLog) => Promise<void>) => void;
type Deleting = EventLog & Required<Pick<EventLog, "deleteEvents" | "deleteEntity">>;

const bytes = (...values: number[]) => new Uint8Array(values);
const seqNos = (events: readonly PersistedEvent[]) => events.map((e) => e.seqNo);
const payloads = (events: readonly PersistedEvent[]) => events.map((e) => [...e.bytes]);

/** The log, or a failure naming the method it lacks and how to leave the tests out. */
function deleting(log: EventLog): Deleting {
  for (const method of ["deleteEvents", "deleteEntity"] as const) {
    assert.equal(
      typeof log[method],
      "function",
      `the log has no ${method}: implement it, or pass { deletion: false } to testEventLog`,
    );
  }
  return log as Deleting;
}

async function assertStrictlyIncreasing(stream: ReadableStream<PersistedEvent>) {
  const events = await collect(stream);
  for (let i = 1; i < events.length; i++) {
    assert.ok(events[i]!.position > events[i - 1]!.position, "positions strictly increase");
  }
  return events;
}

/** Registers the deletion tests with `check`. */
export function deletionChecks(check: Check, wholePersists: boolean): void {
  // A log that deletes whole persists only (on NATS the events of one persist are one message)
  // gets each event in a persist of its own, so every check below applies to it as well.
  const persist = async (
    log: EventLog,
    typeName: string,
    id: string,
    last: number | null,
    events: readonly Uint8Array[],
    options?: PersistOptions,
  ): Promise<number> => {
    if (!wholePersists) return await log.persist(typeName, id, last, events, options);
    let seqNo = last;
    for (const event of events) seqNo = await log.persist(typeName, id, seqNo, [event], options);
    return seqNo!;
  };
  check("deleteEvents keeps the entity's last event and its seqNo goes on", async (given) => {
    const log = deleting(given);
    const typeName = uniqueTypeName();
    await persist(log, typeName, "a", null, [bytes(1), bytes(2), bytes(3), bytes(4), bytes(5)]);
    assert.equal(await log.deleteEvents(typeName, "a", 3), 3);
    assert.equal(await log.lastSeqNo(typeName, "a"), 5);
    assert.deepEqual(seqNos(await collect(log.eventsById(typeName, "a", 1))), [4, 5]);
    assert.equal(await log.deleteEvents(typeName, "a", 3), 0, "a second delete finds nothing");
    assert.equal(await log.deleteEvents(typeName, "a", 99), 1, "all but the last event go");
    assert.deepEqual(payloads(await collect(log.eventsById(typeName, "a", 1))), [[5]]);
    assert.equal(await log.lastSeqNo(typeName, "a"), 5);
    assert.equal(await persist(log, typeName, "a", 5, [bytes(6)]), 6);
    assert.deepEqual(seqNos(await collect(log.eventsById(typeName, "a", 0))), [5, 6]);
    await assert.rejects(
      persist(log, typeName, "a", null, [bytes(9)]),
      isConcurrencyError,
      "an entity with deleted events still has its seqNo",
    );
  });

  check(
    "reads by id start at the first kept event; the kept events are unchanged",
    async (given) => {
      const log = deleting(given);
      const typeName = uniqueTypeName();
      await persist(log, typeName, "a", null, [bytes(1), bytes(2), bytes(3), bytes(4)], {
        metadata: { commandId: "c-1" },
        version: 2,
      });
      const before = await collect(log.eventsById(typeName, "a", 1));
      assert.equal(await log.deleteEvents(typeName, "a", 2), 2);
      assert.deepEqual(await collect(log.eventsById(typeName, "a", 1)), before.slice(2));
      assert.deepEqual(await collect(log.eventsById(typeName, "a", 2)), before.slice(2));
      assert.deepEqual(await collect(log.eventsById(typeName, "a", 4)), before.slice(3));
      assert.deepEqual(await collect(log.eventsById(typeName, "a", 5)), []);
      const live = take(log.eventsById(typeName, "a", 1, { live: true }), 3);
      await persist(log, typeName, "a", 4, [bytes(5)]);
      assert.deepEqual(seqNos(await live), [3, 4, 5]);
    },
  );

  check("reads by type skip deleted events; the others keep their positions", async (given) => {
    const log = deleting(given);
    const typeName = uniqueTypeName();
    await persist(log, typeName, "a", null, [bytes(1), bytes(2)]);
    await persist(log, typeName, "b", null, [bytes(3)]);
    await persist(log, typeName, "a", 2, [bytes(4)]);
    await persist(log, typeName, "b", 1, [bytes(5)]);
    const before = await collect(log.eventsByType(typeName, 0));
    assert.equal(await log.deleteEvents(typeName, "a", 2), 2);
    assert.equal(await log.deleteEvents(typeName, "b", 1), 1);
    const after = await assertStrictlyIncreasing(log.eventsByType(typeName, 0));
    assert.deepEqual(after, [before[3]!, before[4]!]);
    assert.deepEqual(
      await collect(log.eventsByType(typeName, before[1]!.position)),
      [before[3]!, before[4]!],
      "a read from a deleted position starts at the next kept event",
    );
    assert.deepEqual(await collect(log.eventsByType(typeName, before[4]!.position)), [before[4]!]);
    if (log.countAfter !== undefined) {
      const count = await log.countAfter(typeName, 0);
      assert.ok(count >= 2, `countAfter(0) is ${count}: at least the 2 events that remain`);
      assert.equal(await log.countAfter(typeName, before[4]!.position), 0);
    }
  });

  check("a live reader of the type goes on past deletions without a gap or a repeat", async (
    given,
  ) => {
    const log = deleting(given);
    const typeName = uniqueTypeName();
    await persist(log, typeName, "a", null, [bytes(1), bytes(2), bytes(3)]);
    await persist(log, typeName, "b", null, [bytes(4)]);
    const reader = log.eventsByType(typeName, 0, { live: true }).getReader();
    try {
      const seen: PersistedEvent[] = [];
      const next = async () => {
        const { done, value } = await within(reader.read(), 10_000, "a live read");
        assert.ok(!done, "the live read ended");
        seen.push(value);
        return value;
      };
      await next();
      assert.equal(await log.deleteEvents(typeName, "a", 2), 2);
      assert.equal(await log.deleteEntity(typeName, "b"), 1);
      await persist(log, typeName, "a", 3, [bytes(5)]);
      await persist(log, typeName, "b", null, [bytes(6)]);
      // Events deleted after the reader fetched them may still reach it; the rest must.
      while (seen.at(-1)!.bytes[0] !== 6) await next();
      for (let i = 1; i < seen.length; i++) {
        assert.ok(seen[i]!.position > seen[i - 1]!.position, "positions strictly increase");
      }
      const payloadsSeen = seen.map((e) => e.bytes[0]);
      for (const kept of [1, 3, 5, 6]) {
        assert.ok(payloadsSeen.includes(kept), `event ${kept} was seen: ${payloadsSeen}`);
      }
    } finally {
      await reader.cancel();
    }
  });

  check("deleteEntity frees the id; positions are never given again", async (given) => {
    const log = deleting(given);
    const typeName = uniqueTypeName();
    await persist(log, typeName, "a", null, [bytes(1)]);
    await persist(log, typeName, "b", null, [bytes(2), bytes(3)]);
    const before = await collect(log.eventsByType(typeName, 0));
    const head = before.at(-1)!.position;
    // b holds the type's newest events: deleting it must not let them be numbered again.
    assert.equal(await log.deleteEntity(typeName, "b"), 2);
    assert.equal(await log.lastSeqNo(typeName, "b"), null);
    assert.deepEqual(await collect(log.eventsById(typeName, "b", 1)), []);
    assert.deepEqual(await collect(log.eventsByType(typeName, 0)), [before[0]!]);
    assert.equal(await log.deleteEntity(typeName, "b"), 0, "a second delete finds nothing");
    assert.equal(await persist(log, typeName, "b", null, [bytes(4)]), 1);
    const reborn = await collect(log.eventsById(typeName, "b", 1));
    assert.deepEqual(seqNos(reborn), [1]);
    assert.deepEqual(payloads(reborn), [[4]]);
    assert.ok(reborn[0]!.position > head, `position ${reborn[0]!.position} is above ${head}`);
    assert.equal(await log.lastSeqNo(typeName, "a"), 1, "other entities are untouched");
    const all = await assertStrictlyIncreasing(log.eventsByType(typeName, 0));
    assert.deepEqual(payloads(all), [[1], [4]]);
  });

  check("deleting a type's only entity leaves its positions taken", async (given) => {
    const log = deleting(given);
    const typeName = uniqueTypeName();
    await persist(log, typeName, "a", null, [bytes(1), bytes(2)]);
    const head = (await collect(log.eventsByType(typeName, 0))).at(-1)!.position;
    assert.equal(await log.deleteEntity(typeName, "a"), 2);
    assert.deepEqual(await collect(log.eventsByType(typeName, 0)), []);
    await persist(log, typeName, "c", null, [bytes(3)]);
    const [event] = await collect(log.eventsByType(typeName, 0));
    assert.ok(event!.position > head, `position ${event!.position} is above ${head}`);
  });

  check("deleting what an entity or type does not hold resolves to 0", async (given) => {
    const log = deleting(given);
    const typeName = uniqueTypeName();
    assert.equal(await log.deleteEvents(typeName, "none", 5), 0);
    assert.equal(await log.deleteEntity(typeName, "none"), 0);
    await persist(log, typeName, "a", null, [bytes(1)]);
    assert.equal(await log.deleteEvents(typeName, "a", 1), 0, "the last event stays");
    assert.equal(await log.deleteEvents(typeName, "none", 5), 0);
    assert.deepEqual(payloads(await collect(log.eventsById(typeName, "a", 1))), [[1]]);
  });

  check("bad arguments to deleteEvents and deleteEntity are refused before any write", async (
    given,
  ) => {
    const log = deleting(given);
    const typeName = uniqueTypeName();
    await persist(log, typeName, "a", null, [bytes(1), bytes(2), bytes(3)]);
    const refuse = async (call: () => Promise<unknown>, pattern: RegExp, what: string) => {
      const error = await Promise.resolve().then(call).then(() => null, (e) => e);
      assert.ok(error instanceof TypeError || error instanceof RangeError, `${what}: got ${error}`);
      assert.match(error.message, pattern, what);
    };
    for (const toSeqNo of [0, -1, 1.5, Number.NaN, Infinity, "2", null, undefined]) {
      const what = `toSeqNo ${String(toSeqNo)}`;
      await refuse(() => log.deleteEvents(typeName, "a", toSeqNo as number), /toSeqNo/, what);
    }
    await refuse(() => log.deleteEvents("bad name", "a", 2), /typeName/, "a bad type name");
    await refuse(() => log.deleteEvents(typeName, "", 2), /id/, "an empty id");
    await refuse(() => log.deleteEvents(typeName, 7 as never, 2), /id/, "a number as id");
    await refuse(() => log.deleteEvents(typeName, "a", 2, { nope: 1 } as never), /nope/, "a key");
    await refuse(() => log.deleteEntity("bad name", "a"), /typeName/, "a bad type name");
    await refuse(() => log.deleteEntity(typeName, "x\u0000y"), /id/, "an id with NUL");
    await refuse(() => log.deleteEntity(typeName, "a", { nope: 1 } as never), /nope/, "a key");
    await refuse(
      () => log.deleteEntity(typeName, "a", { signal: "no" } as never),
      /signal/,
      "a signal that is not an AbortSignal",
    );
    assert.deepEqual(seqNos(await collect(log.eventsById(typeName, "a", 1))), [1, 2, 3]);
  });

  check("an aborted signal refuses deleteEvents and deleteEntity with its reason", async (
    given,
  ) => {
    const log = deleting(given);
    const typeName = uniqueTypeName();
    await persist(log, typeName, "a", null, [bytes(1), bytes(2), bytes(3)]);
    const reason = new Error("deletion called off");
    const signal = AbortSignal.abort(reason);
    await assert.rejects(log.deleteEvents(typeName, "a", 2, { signal }), (e) => e === reason);
    await assert.rejects(log.deleteEntity(typeName, "a", { signal }), (e) => e === reason);
    assert.deepEqual(seqNos(await collect(log.eventsById(typeName, "a", 1))), [1, 2, 3]);
    const open = new AbortController();
    assert.equal(await log.deleteEvents(typeName, "a", 2, { signal: open.signal }), 2);
    assert.equal(await log.deleteEntity(typeName, "a", { signal: open.signal }), 1);
  });
}
