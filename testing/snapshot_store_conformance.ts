/**
 * The conformance suite for {@linkcode SnapshotStore} implementations.
 *
 * @module
 */

import { booleanOption, functionOption, integerAtLeast, readOptions } from "../src/_options.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import type { SnapshotStore } from "../src/snapshot_store.ts";
import { uniqueTypeName } from "./_collect.ts";
import { snapshotDeletionChecks } from "./_snapshot_store_deletion.ts";

/**
 * Options of {@linkcode testSnapshotStore}.
 *
 * @example Close each store after its test
 * ```ts
 * import type { SnapshotStoreSuiteOptions } from "@eventsourced/eventsourced/testing";
 * import { MemorySnapshotStore } from "@eventsourced/eventsourced";
 *
 * const options: SnapshotStoreSuiteOptions = { dispose: () => {}, timeout: 10_000, deletion: true };
 * options.dispose?.(new MemorySnapshotStore());
 * ```
 */
export interface SnapshotStoreSuiteOptions {
  /** Releases a store made by the factory after each test. */
  dispose?: (store: SnapshotStore) => void | Promise<void>;
  /** Per-test timeout in ms; default 30 000. */
  timeout?: number;
  /**
   * Whether the store implements `delete`, whose tests then run. Default `true`: a store
   * without it fails those tests; pass `false` for a store that does not offer deletion.
   */
  deletion?: boolean;
}

/**
 * Registers the snapshot store conformance tests under `name`. Tests use type names of their
 * own, so a factory may return stores over one shared database. The rules checked are those of
 * the SnapshotStore section of `docs/event-log-rules.md` (shipped with the package).
 *
 * @example Run the suite against the memory store
 * ```ts ignore
 * import { MemorySnapshotStore } from "@eventsourced/eventsourced";
 * import { testSnapshotStore } from "@eventsourced/eventsourced/testing";
 *
 * testSnapshotStore("MemorySnapshotStore", () => new MemorySnapshotStore());
 * ```
 */
export function testSnapshotStore(
  name: string,
  factory: () => SnapshotStore | Promise<SnapshotStore>,
  given?: SnapshotStoreSuiteOptions,
): void {
  const options = readOptions<SnapshotStoreSuiteOptions>("testSnapshotStore", given, {
    dispose: functionOption(undefined),
    timeout: integerAtLeast(1, 30_000),
    deletion: booleanOption(true),
  });
  const timeout = options.timeout!;
  const check = (title: string, body: (store: SnapshotStore) => Promise<void>) => {
    test(`${name}: ${title}`, { timeout }, async () => {
      const store = await factory();
      try {
        await body(store);
      } finally {
        await options.dispose?.(store);
      }
    });
  };

  check("load of an entity without a snapshot is null", async (store) => {
    assert.equal(await store.load(uniqueTypeName(), "a"), null);
  });

  check("save then load returns the same seqNo and bytes", async (store) => {
    const typeName = uniqueTypeName();
    const bytes = new Uint8Array(256).map((_, i) => i);
    await store.save(typeName, "a", 7, bytes);
    const loaded = await store.load(typeName, "a");
    assert.equal(loaded?.seqNo, 7);
    assert.deepEqual([...loaded!.bytes], [...bytes]);
  });

  check("changing bytes after save or after a load never changes the store", async (store) => {
    const typeName = uniqueTypeName();
    const given = new Uint8Array([1, 2, 3]);
    await store.save(typeName, "a", 1, given);
    given.fill(9);
    const loaded = await store.load(typeName, "a");
    assert.deepEqual([...loaded!.bytes], [1, 2, 3], "the store copied what save was given");
    loaded!.bytes.fill(7);
    assert.deepEqual([...(await store.load(typeName, "a"))!.bytes], [1, 2, 3]);
  });

  check("a newer snapshot replaces an older one", async (store) => {
    const typeName = uniqueTypeName();
    await store.save(typeName, "a", 10, new Uint8Array([1]));
    await store.save(typeName, "a", 20, new Uint8Array([2]));
    const loaded = await store.load(typeName, "a");
    assert.equal(loaded?.seqNo, 20);
    assert.deepEqual([...loaded!.bytes], [2]);
  });

  check("an older snapshot never replaces a newer one", async (store) => {
    const typeName = uniqueTypeName();
    await store.save(typeName, "a", 20, new Uint8Array([2]));
    await store.save(typeName, "a", 10, new Uint8Array([1]));
    const loaded = await store.load(typeName, "a");
    assert.equal(loaded?.seqNo, 20);
    assert.deepEqual([...loaded!.bytes], [2]);
  });

  check("concurrent saves leave the highest seqNo", async (store) => {
    const typeName = uniqueTypeName();
    const seqNos = [5, 50, 12, 49, 3, 31];
    await Promise.all(
      seqNos.map((seqNo) => store.save(typeName, "a", seqNo, new Uint8Array([seqNo]))),
    );
    const loaded = await store.load(typeName, "a");
    assert.equal(loaded?.seqNo, 50);
    assert.deepEqual([...loaded!.bytes], [50]);
  });

  check("snapshots of different typeNames and ids never collide", async (store) => {
    const first = uniqueTypeName("x");
    const second = uniqueTypeName("y");
    await store.save(first, "same", 1, new Uint8Array([1]));
    await store.save(second, "same", 2, new Uint8Array([2]));
    await store.save(first, "same.other", 3, new Uint8Array([3]));
    assert.deepEqual([...(await store.load(first, "same"))!.bytes], [1]);
    assert.deepEqual([...(await store.load(second, "same"))!.bytes], [2]);
    assert.deepEqual([...(await store.load(first, "same.other"))!.bytes], [3]);
    assert.equal(await store.load(second, "same.other"), null);
  });

  check("ids with special characters are stored exactly", async (store) => {
    const typeName = uniqueTypeName();
    const ids = ["a.b", "a*", ">", "a b", "ü", "'; --", "😀"];
    for (const [i, id] of ids.entries()) await store.save(typeName, id, i + 1, new Uint8Array([i]));
    for (const [i, id] of ids.entries()) {
      const loaded = await store.load(typeName, id);
      assert.equal(loaded?.seqNo, i + 1, `id ${JSON.stringify(id)}`);
    }
  });

  check("bad arguments are refused", async (store) => {
    const typeName = uniqueTypeName();
    const refuse = async (promise: () => Promise<unknown>, pattern: RegExp) => {
      const error = await Promise.resolve().then(promise).then(() => null, (e) => e);
      assert.ok(error instanceof TypeError || error instanceof RangeError, `got ${error}`);
      assert.match(error.message, pattern);
    };
    await refuse(() => store.save("bad name", "a", 1, new Uint8Array()), /typeName/);
    await refuse(() => store.save(typeName, "", 1, new Uint8Array()), /id/);
    await refuse(() => store.save(typeName, "a", 0, new Uint8Array()), /seqNo/);
    await refuse(() => store.load("bad name", "a"), /typeName/);
    assert.equal(await store.load(typeName, "a"), null);
  });

  check(
    "the version round-trips; a snapshot saved without one loads as version 1",
    async (store) => {
      const typeName = uniqueTypeName();
      await store.save(typeName, "a", 1, new Uint8Array([1]));
      assert.equal((await store.load(typeName, "a"))?.version, 1);
      await store.save(typeName, "a", 2, new Uint8Array([2]), { version: 7 });
      const loaded = await store.load(typeName, "a");
      assert.deepEqual([loaded?.seqNo, loaded?.version, [...loaded!.bytes]], [2, 7, [2]]);
      await assert.rejects(
        Promise.resolve().then(() =>
          store.save(typeName, "a", 3, new Uint8Array([3]), { version: 0 })
        ),
        /version/,
      );
      assert.equal((await store.load(typeName, "a"))?.seqNo, 2);
    },
  );

  if (options.deletion) snapshotDeletionChecks(check);
}
