// The copy tests that every pair of backends runs: a faithful copy that live readers and writers
// of the target continue from, resuming after an abort, refusing a target with other data (and
// accepting it with force), and verification catching a tampered copy.

import { test } from "node:test";
import assert from "node:assert/strict";
import { type CopyProgress, copyStore, type StoreAdmin } from "../admin/mod.ts";
import { uniqueTypeName } from "../testing/mod.ts";
import { assertCopied, eventCounts, fillStore, withImport } from "./copy_fixtures.ts";

/** Opens a fresh, set-up, empty store of one backend; `close` is its StoreAdmin's. */
export type OpenStore = () => Promise<StoreAdmin>;

/** Registers the copy tests from stores of `openSource` to stores of `openTarget`. */
export function testCopy(label: string, openSource: OpenStore, openTarget: OpenStore): void {
  async function pair(): Promise<[StoreAdmin, StoreAdmin, () => Promise<void>]> {
    const source = await openSource();
    const target = await openTarget();
    return [source, target, async () => {
      await source.close();
      await target.close();
    }];
  }

  test(`${label}: copies every event and snapshot as they are, and the target goes on from them`, async () => {
    const [source, target, close] = await pair();
    try {
      const types = [uniqueTypeName(), uniqueTypeName()];
      const total = await fillStore(source, types);
      const progress: CopyProgress[] = [];
      const report = await copyStore(source, target, {
        batchSize: 7,
        onProgress: (p) => progress.push(p),
      });
      assert.equal(report.types, 2);
      assert.equal(report.entities, 10);
      assert.equal(report.events, total);
      assert.equal(report.copiedEvents, total);
      assert.equal(report.resumedEvents, 0);
      assert.equal(report.snapshots, 6);
      assert.equal(report.verification?.ok, true);
      assert.equal(report.verification?.events, total);
      assert.deepEqual(progress.at(-1), {
        phase: "verify",
        typeName: [...types].sort()[1],
        events: total,
        totalEvents: total,
        snapshots: 6,
      });
      await assertCopied(source, target, types);
      // A live reader of the target sees the copied events, then one written after the copy.
      const reader = target.eventLog.eventsByType(types[0]!, 1, { live: true }).getReader();
      for (let i = 0; i < total / 2; i++) await reader.read();
      assert.equal(
        await target.eventLog.persist(types[0]!, "entity-1", 6, [new Uint8Array([9])]),
        7,
      );
      const next = await reader.read();
      assert.deepEqual([next.value?.id, next.value?.seqNo], ["entity-1", 7]);
      await reader.cancel();
    } finally {
      await close();
    }
  });

  test(`${label}: a copy aborted midway resumes where it stopped and ends identical and verified`, async () => {
    const [source, target, close] = await pair();
    try {
      const types = [uniqueTypeName(), uniqueTypeName()];
      const total = await fillStore(source, types);
      const controller = new AbortController();
      let calls = 0;
      const interrupted = withImport(target, async (original, events, options) => {
        if (++calls === 4) controller.abort(new Error("interrupted"));
        await original(events, options);
      });
      await assert.rejects(
        copyStore(source, interrupted, { batchSize: 5, signal: controller.signal }),
        /interrupted/,
      );
      const held = Object.values(await eventCounts(target)).reduce((a, b) => a + b, 0);
      assert.ok(held >= 15 && held < total, `held ${held} of ${total}`);
      const report = await copyStore(source, target, { batchSize: 5 });
      assert.equal(report.resumedEvents, held);
      assert.equal(report.copiedEvents, total - held);
      assert.equal(report.verification?.ok, true);
      await assertCopied(source, target, types);
      // Once complete, a further run copies nothing and still verifies.
      const again = await copyStore(source, target);
      assert.deepEqual([again.copiedEvents, again.resumedEvents], [0, total]);
    } finally {
      await close();
    }
  });

  test(`${label}: a copy cut off inside a batch (part written, then a lost connection) resumes after the last event written`, async () => {
    const [source, target, close] = await pair();
    try {
      const types = [uniqueTypeName()];
      const total = await fillStore(source, types);
      let calls = 0;
      const cut = withImport(target, async (original, events, options) => {
        if (++calls < 3) return original(events, options);
        await original(events.slice(0, 3), options);
        throw new Error("connection lost");
      });
      await assert.rejects(copyStore(source, cut, { batchSize: 7 }), /connection lost/);
      assert.deepEqual(await eventCounts(target), { [types[0]!]: 17 });
      const report = await copyStore(source, target, { batchSize: 7 });
      assert.deepEqual([report.resumedEvents, report.copiedEvents], [17, total - 17]);
      await assertCopied(source, target, types);
    } finally {
      await close();
    }
  });

  test(`${label}: a copy run again after the source grew copies only the new events`, async () => {
    const [source, target, close] = await pair();
    try {
      const types = [uniqueTypeName()];
      const total = await fillStore(source, types);
      await copyStore(source, target);
      await source.eventLog.persist(types[0]!, "entity-0", 6, [new Uint8Array([1])]);
      await source.eventLog.persist(types[0]!, "newcomer", null, [new Uint8Array([2])], {
        metadata: { commandId: "late" },
      });
      await source.snapshotStore.save(types[0]!, "entity-0", 7, new Uint8Array([3]));
      const report = await copyStore(source, target);
      assert.deepEqual([report.resumedEvents, report.copiedEvents], [total, 2]);
      assert.equal(report.verification?.ok, true);
      await assertCopied(source, target, types);
    } finally {
      await close();
    }
  });

  test(`${label}: a target holding other data is refused before any write, and accepted with force`, async () => {
    const [source, target, close] = await pair();
    try {
      const types = [uniqueTypeName()];
      const total = await fillStore(source, types);
      const other = uniqueTypeName();
      await target.eventLog.persist(other, "x", null, [new Uint8Array([1])]);
      await assert.rejects(
        copyStore(source, target),
        new RegExp(`holds data that is not an earlier copy of this source: entity type "${other}"`),
      );
      assert.deepEqual(await eventCounts(target), { [other]: 1 });
      assert.equal(await target.snapshotStore.load(types[0]!, "entity-0"), null);
      const report = await copyStore(source, target, { force: true });
      assert.equal(report.copiedEvents, total);
      assert.deepEqual(await eventCounts(target), { [other]: 1, [types[0]!]: total });
      // A type whose events differ from the source's is refused too, naming the entity.
      const [source2, target2, close2] = await pair();
      try {
        await fillStore(source2, types, 2, 2);
        await target2.eventLog.persist(types[0]!, "entity-0", null, [new Uint8Array([7])]);
        await assert.rejects(
          copyStore(source2, target2),
          new RegExp(`entity type "${types[0]}" whose last event \\("entity-0" seqNo 1\\) differs`),
        );
        assert.deepEqual(await eventCounts(target2), { [types[0]!]: 1 });
      } finally {
        await close2();
      }
    } finally {
      await close();
    }
  });

  test(`${label}: verification names a snapshot that differs in the target`, async () => {
    const [source, target, close] = await pair();
    try {
      const types = [uniqueTypeName()];
      await fillStore(source, types);
      await copyStore(source, target);
      await target.snapshotStore.save(types[0]!, "entity-4", 6, new Uint8Array([6]));
      await assert.rejects(
        copyStore(source, target),
        new RegExp(
          `Copy verification failed: 1 mismatch: snapshot of "${
            types[0]
          }" "entity-4": seqNo 4 version 2 in the source, seqNo 6 version 1 in the target`,
        ),
      );
    } finally {
      await close();
    }
  });

  test(`${label}: verification names the entity whose copy differs`, async () => {
    const [source, target, close] = await pair();
    try {
      const types = [uniqueTypeName()];
      await fillStore(source, types);
      const tampering = withImport(target, (original, events, options) =>
        original(
          events.map((event) =>
            event.id === "entity-3" && event.seqNo === 4
              ? { ...event, bytes: new Uint8Array([...event.bytes, 0]) }
              : event.id === "entity-1" && event.seqNo === 3
              ? { ...event, metadata: { commandId: "forged" } }
              : event
          ),
          options,
        ));
      await assert.rejects(
        copyStore(source, tampering),
        (error: Error) => {
          assert.match(error.message, /Copy verification failed: 2 mismatches/);
          assert.match(error.message, new RegExp(`entity "${types[0]}" "entity-1": checksum`));
          assert.match(error.message, new RegExp(`entity "${types[0]}" "entity-3": checksum`));
          return true;
        },
      );
    } finally {
      await close();
    }
  });
}
