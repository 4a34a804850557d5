// A check both SQL adapters run: pages are packed rows (adapters/_sql/packed_page.ts) that stop
// at a row limit or at 4 MiB of event bytes, and a read must still return every event, exactly,
// across both kinds of page end, as a stream and through the replay of spawn.

import { test } from "node:test";
import assert from "node:assert/strict";
import { type EventLog, jsonBinarize, reply, spawn } from "../mod.ts";
import { collect, uniqueTypeName } from "../testing/mod.ts";

const MIB = 1024 * 1024;

/** Registers the page tests for the logs `open` returns (with `pageSize` 3). */
export function testSqlPages(
  name: string,
  open: (options: { pageSize: number }) => EventLog & { close(): Promise<void> },
): void {
  test(`${name}: reads cross pages ended by the row limit and by 4 MiB of bytes`, {
    timeout: 60_000,
  }, async () => {
    const log = open({ pageSize: 3 });
    try {
      const typeName = uniqueTypeName("pages");
      // Pages of 3 from seqNo 1: [3M, 2M] (stopped by bytes), [10, 3M, 3M], [7, 8, 9], [1, 2].
      const sizes = [3 * MIB, 2 * MIB, 10, 3 * MIB, 3 * MIB, 7, 8, 9, 1, 2];
      const written = sizes.map((size, i) => new Uint8Array(size).fill(i + 1));
      let last: number | null = null;
      for (const bytes of written) last = await log.persist(typeName, "big", last, [bytes]);
      await log.persist(typeName, "small", null, [new Uint8Array([42])]);

      const byId = await collect(log.eventsById(typeName, "big", 1));
      assert.deepEqual(byId.map((e) => e.seqNo), sizes.map((_, i) => i + 1));
      byId.forEach((event, i) => assert.deepEqual(event.bytes, written[i]));

      const fromFour = await collect(log.eventsById(typeName, "big", 4));
      assert.deepEqual(fromFour.map((e) => e.seqNo), [4, 5, 6, 7, 8, 9, 10]);

      const byType = await collect(log.eventsByType(typeName, 1));
      assert.deepEqual(byType.map((e) => e.position), sizes.map((_, i) => i + 1).concat(11));
      assert.deepEqual(byType.map((e) => e.id), sizes.map(() => "big").concat("small"));
      byType.slice(0, sizes.length).forEach((event, i) =>
        assert.deepEqual(event.bytes, written[i])
      );
    } finally {
      await log.close();
    }
  });

  test(`${name}: spawn replays a log of many pages to the exact state`, {
    timeout: 60_000,
  }, async () => {
    const log = open({ pageSize: 3 });
    try {
      type Event = { add: number; pad: string };
      const entity = {
        typeName: uniqueTypeName("replay-pages"),
        initialState: 0,
        handleEvent: (state: number, event: Event) => state + event.add,
      };
      const binarize = jsonBinarize<Event, number>();
      const events = Array.from({ length: 20 }, (_, i) => ({
        add: i + 1,
        pad: i % 7 === 0 ? "x".repeat(3 * MIB) : "",
      }));
      let last: number | null = null;
      for (const event of events) {
        last = await log.persist(entity.typeName, "e", last, [binarize.eventToBytes(event)]);
      }
      const ref = await spawn(entity, "e", { eventLog: log, binarize });
      const result = await ref.handleCommand({ handleCommand: (_id, state) => reply(state) });
      await ref.stop();
      assert.deepEqual(result, { ok: true, value: 210 });
    } finally {
      await log.close();
    }
  });
}
