// The deletion tests of the snapshot store conformance suite: `delete`. A store without it
// fails them: a suite that skipped them would pass a store that cannot forget.

import assert from "node:assert/strict";
import type { SnapshotStore } from "../src/snapshot_store.ts";
import { uniqueTypeName } from "./_collect.ts";

type Check = (title: string, body: (store: SnapshotStore) => Promise<void>) => void;
type Deleting = SnapshotStore & Required<Pick<SnapshotStore, "delete">>;

/** The store, or a failure naming the method it lacks and how to leave the tests out. */
function deleting(store: SnapshotStore): Deleting {
  assert.equal(
    typeof store.delete,
    "function",
    "the store has no delete: implement it, or pass { deletion: false } to testSnapshotStore",
  );
  return store as Deleting;
}

/** Registers the deletion tests with `check`. */
export function snapshotDeletionChecks(check: Check): void {
  check("delete removes the entity's snapshot and nothing else", async (given) => {
    const store = deleting(given);
    const typeName = uniqueTypeName();
    const other = uniqueTypeName();
    await store.save(typeName, "a", 10, new Uint8Array([1]));
    await store.save(typeName, "b", 4, new Uint8Array([2]));
    await store.save(other, "a", 5, new Uint8Array([3]));
    await store.delete(typeName, "a");
    assert.equal(await store.load(typeName, "a"), null);
    assert.equal((await store.load(typeName, "b"))?.seqNo, 4);
    assert.equal((await store.load(other, "a"))?.seqNo, 5);
    await store.delete(typeName, "a");
    await store.delete(typeName, "never-saved");
    assert.equal(await store.load(typeName, "a"), null);
  });

  check("after delete a snapshot of any seqNo is saved again", async (given) => {
    const store = deleting(given);
    const typeName = uniqueTypeName();
    await store.save(typeName, "a", 10, new Uint8Array([1]));
    await store.delete(typeName, "a");
    // A deleted entity starts again at seqNo 1: its first snapshot must not lose to the old one.
    await store.save(typeName, "a", 2, new Uint8Array([2]), { version: 3 });
    const loaded = await store.load(typeName, "a");
    assert.deepEqual([loaded?.seqNo, loaded?.version, [...loaded!.bytes]], [2, 3, [2]]);
  });

  check("bad arguments and an aborted signal refuse delete before any write", async (given) => {
    const store = deleting(given);
    const typeName = uniqueTypeName();
    await store.save(typeName, "a", 1, new Uint8Array([1]));
    const refuse = async (call: () => Promise<unknown>, pattern: RegExp, what: string) => {
      const error = await Promise.resolve().then(call).then(() => null, (e) => e);
      assert.ok(error instanceof TypeError || error instanceof RangeError, `${what}: got ${error}`);
      assert.match(error.message, pattern, what);
    };
    await refuse(() => store.delete("bad name", "a"), /typeName/, "a bad type name");
    await refuse(() => store.delete(typeName, ""), /id/, "an empty id");
    await refuse(() => store.delete(typeName, "a", { nope: 1 } as never), /nope/, "a key");
    const reason = new Error("deletion called off");
    await assert.rejects(
      store.delete(typeName, "a", { signal: AbortSignal.abort(reason) }),
      (e) => e === reason,
    );
    assert.equal((await store.load(typeName, "a"))?.seqNo, 1);
  });
}
