/**
 * The conformance suite for {@linkcode StoreAdmin} implementations, as `node:test` tests, so
 * every backend's admin runs the same checks on Deno, Bun and Node.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { functionOption, integerAtLeast, readOptions } from "../src/_options.ts";
import type { PersistedEvent } from "../src/event_log.ts";
import { isConcurrencyError, isStorageError } from "../src/errors.ts";
import type { OffsetStore } from "../projection/offset_store.ts";
import { isProjectionError } from "../projection/errors.ts";
import type { StoreAdmin } from "../admin/store_admin.ts";
import { compareCodePoints } from "../admin/_order.ts";
import { collect, take, uniqueTypeName } from "./_collect.ts";

/**
 * Options of {@linkcode testStoreAdmin}.
 *
 * @example Options for the memory stores
 * ```ts
 * import { MemoryEventLog, MemorySnapshotStore } from "@eventsourced/eventsourced";
 * import { memoryStoreAdmin } from "@eventsourced/eventsourced/admin";
 * import { MemoryOffsetStore } from "@eventsourced/eventsourced/projection";
 * import type { StoreAdminSuiteOptions } from "@eventsourced/eventsourced/testing";
 *
 * const offsetStore = new MemoryOffsetStore();
 * const options: StoreAdminSuiteOptions = {
 *   fresh: () =>
 *     memoryStoreAdmin({ eventLog: new MemoryEventLog(), snapshotStore: new MemorySnapshotStore() }),
 *   offsetStore: () => offsetStore,
 * };
 * ```
 */
export interface StoreAdminSuiteOptions {
  /** Makes an admin over storage where nothing was set up yet (its own tables, stream, buckets). */
  fresh: () => StoreAdmin | Promise<StoreAdmin>;
  /** The offset store over the same storage as `admin`, whose runners the admin must respect. */
  offsetStore: (admin: StoreAdmin) => OffsetStore<unknown> | Promise<OffsetStore<unknown>>;
  /** Releases an admin made by a factory after each test. */
  dispose?: (admin: StoreAdmin) => void | Promise<void>;
  /** How many ids the paging test lists, more than one page of the backend; default 2 500. */
  pagingIds?: number;
  /** Per-test timeout in ms; default 60 000. */
  timeout?: number;
}

const bytes = (...values: number[]) => new Uint8Array(values);

function event(
  typeName: string,
  id: string,
  seqNo: number,
  position: number,
  extra: Partial<PersistedEvent> = {},
): PersistedEvent {
  return {
    typeName,
    id,
    seqNo,
    position,
    bytes: bytes(seqNo, position % 256),
    version: 1,
    writtenAt: 1_700_000_000_000 + position,
    metadata: {},
    ...extra,
  };
}

// What an import must keep of an event; the position only where the store keeps positions.
function kept(events: readonly PersistedEvent[], positions: boolean) {
  return events.map((e) => ({
    typeName: e.typeName,
    id: e.id,
    seqNo: e.seqNo,
    ...(positions ? { position: e.position } : {}),
    bytes: [...e.bytes],
    version: e.version,
    writtenAt: e.writtenAt,
    metadata: e.metadata,
  }));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return await promise.then(
    () => assert.fail("expected the call to reject"),
    (error: unknown) => error,
  );
}

function assertArgumentError(error: unknown, message: RegExp): void {
  assert.ok(
    error instanceof TypeError || error instanceof RangeError,
    `expected a TypeError or RangeError, got ${error}`,
  );
  assert.match((error as Error).message, message);
}

/**
 * Registers the store admin conformance tests under `name`. `factory` makes an admin over a
 * store that is set up; tests use type and projection names of their own, so a factory may
 * return admins over one shared database.
 *
 * @example Run the suite against the memory stores
 * ```ts ignore
 * import { MemoryEventLog, MemorySnapshotStore } from "@eventsourced/eventsourced";
 * import { memoryStoreAdmin } from "@eventsourced/eventsourced/admin";
 * import { MemoryOffsetStore } from "@eventsourced/eventsourced/projection";
 * import { testStoreAdmin } from "@eventsourced/eventsourced/testing";
 *
 * const stores = () => ({ eventLog: new MemoryEventLog(), snapshotStore: new MemorySnapshotStore() });
 * const offsetStore = new MemoryOffsetStore();
 * testStoreAdmin("memory", () => memoryStoreAdmin({ ...stores(), offsetStore }), {
 *   fresh: () => memoryStoreAdmin(stores()),
 *   offsetStore: () => offsetStore,
 * });
 * ```
 */
export function testStoreAdmin(
  name: string,
  factory: () => StoreAdmin | Promise<StoreAdmin>,
  given: StoreAdminSuiteOptions,
): void {
  const options = readOptions<StoreAdminSuiteOptions>("testStoreAdmin", given, {
    fresh: functionOption(undefined as never),
    offsetStore: functionOption(undefined as never),
    dispose: functionOption(undefined),
    pagingIds: integerAtLeast(1, 2_500),
    timeout: integerAtLeast(1, 60_000),
  });
  if (options.fresh === undefined || options.offsetStore === undefined) {
    throw new TypeError("Invalid testStoreAdmin options: fresh and offsetStore are required");
  }
  const check = (title: string, body: (admin: StoreAdmin) => Promise<void>) => {
    test(`${name}: ${title}`, { timeout: options.timeout! }, async () => {
      const admin = await factory();
      try {
        await body(admin);
      } finally {
        await options.dispose?.(admin);
      }
    });
  };

  check("schema is missing before setup, latest after it, and setup runs again", async () => {
    const admin = await options.fresh();
    try {
      const before = await admin.schema();
      assert.ok(Number.isInteger(before.latest) && before.latest >= 1, `latest ${before.latest}`);
      if (admin.backend === "memory") {
        assert.deepEqual(before, { installed: before.latest, latest: before.latest });
      } else {
        assert.equal(before.installed, null);
        const error = await rejection(admin.entityTypes());
        assert.ok(isStorageError(error), `expected a StorageError, got ${error}`);
        assert.equal(error.reason, "schema-missing");
      }
      await admin.setup();
      assert.deepEqual(await admin.schema(), { installed: before.latest, latest: before.latest });
      await admin.setup();
      assert.deepEqual(await admin.schema(), { installed: before.latest, latest: before.latest });
      assert.deepEqual(await admin.entityTypes(), []);
    } finally {
      await options.dispose?.(admin);
    }
  });

  check("entityTypes counts the entities and events of each type and its head", async (admin) => {
    const [first, second] = [uniqueTypeName("a"), uniqueTypeName("b")].sort(compareCodePoints);
    const log = admin.eventLog;
    await log.persist(first!, "x", null, [bytes(1), bytes(2)]);
    await log.persist(second!, "x", null, [bytes(1)]);
    await log.persist(first!, "y", null, [bytes(3)]);
    await log.persist(first!, "x", 2, [bytes(4)]);
    const heads = new Map<string, number>();
    for (const typeName of [first!, second!]) {
      heads.set(typeName, (await collect(log.eventsByType(typeName, 0))).at(-1)!.position);
    }
    const types = (await admin.entityTypes()).filter((t) => heads.has(t.typeName));
    assert.deepEqual(types, [
      { typeName: first, entities: 2, events: 4, headPosition: heads.get(first!) },
      { typeName: second, entities: 1, events: 1, headPosition: heads.get(second!) },
    ]);
    const all = (await admin.entityTypes()).map((t) => t.typeName);
    assert.deepEqual(all, [...all].sort(compareCodePoints), "types in name order");
  });

  check("entityIds lists odd ids once each, in code point order", async (admin) => {
    const typeName = uniqueTypeName();
    const ids = [
      "b",
      "a.b",
      "a",
      "a b",
      "A",
      "é",
      "日本",
      "\uffff",
      "😀",
      "a.b.c",
      "*",
      ">",
      "x".repeat(256),
      "-",
      "_",
      "%2E",
    ];
    for (const id of ids) await admin.eventLog.persist(typeName, id, null, [bytes(1)]);
    await admin.eventLog.persist(typeName, "a", 1, [bytes(2)]);
    const listed = await collect(admin.entityIds(typeName));
    assert.deepEqual(listed, [...ids].sort(compareCodePoints));
    assert.ok(listed.indexOf("\uffff") < listed.indexOf("😀"), "U+FFFF before U+1F600");
    assert.deepEqual(await collect(admin.entityIds(uniqueTypeName())), []);
  });

  check("entityIds pages through more ids than one page", async (admin) => {
    const typeName = uniqueTypeName();
    const count = options.pagingIds!;
    const ids = Array.from({ length: count }, (_, i) => `e${String(i).padStart(5, "0")}`);
    const events = ids.map((id, i) => event(typeName, id, 1, i + 1));
    for (let i = 0; i < events.length; i += 500) {
      await admin.importEvents(events.slice(i, i + 500));
    }
    assert.deepEqual(await collect(admin.entityIds(typeName)), ids);
    const summary = (await admin.entityTypes()).find((t) => t.typeName === typeName);
    assert.equal(summary?.entities, count);
    assert.equal(summary?.events, count);
  });

  check("a listing ends with the reason of its signal", async (admin) => {
    const typeName = uniqueTypeName();
    await admin.eventLog.persist(typeName, "a", null, [bytes(1)]);
    const signal = AbortSignal.abort(new Error("stop listing"));
    await assert.rejects(collect(admin.entityIds(typeName, { signal })), /stop listing/);
    await assert.rejects(collect(admin.snapshots(typeName, { signal })), /stop listing/);
  });

  check("snapshots lists the latest snapshot of each entity in id order", async (admin) => {
    const typeName = uniqueTypeName();
    const store = admin.snapshotStore;
    await store.save(typeName, "b", 5, bytes(5), { version: 2 });
    await store.save(typeName, "a.1", 3, bytes(3));
    await store.save(typeName, "b", 4, bytes(4));
    await store.save(typeName, "é", 7, new Uint8Array(0), { version: 9 });
    await admin.importSnapshot({ typeName, id: "c", seqNo: 2, bytes: bytes(2, 2), version: 4 });
    await admin.importSnapshot({ typeName, id: "a.1", seqNo: 1, bytes: bytes(1), version: 1 });
    const listed = (await collect(admin.snapshots(typeName))).map((s) => ({
      ...s,
      bytes: [...s.bytes],
    }));
    assert.deepEqual(listed, [
      { typeName, id: "a.1", seqNo: 3, bytes: [3], version: 1 },
      { typeName, id: "b", seqNo: 5, bytes: [5], version: 2 },
      { typeName, id: "c", seqNo: 2, bytes: [2, 2], version: 4 },
      { typeName, id: "é", seqNo: 7, bytes: [], version: 9 },
    ]);
    assert.deepEqual(await collect(admin.snapshots(uniqueTypeName())), []);
  });

  check("importEvents writes events exactly as given and reads them back", async (admin) => {
    const typeName = uniqueTypeName();
    const metadata = {
      commandId: "c-1",
      correlationId: "r-1",
      causationId: "c-0",
      headers: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
    };
    const all = new Uint8Array(256).map((_, i) => i);
    const events = [
      event(typeName, "a", 1, 1, { version: 3, metadata, writtenAt: 1_600_000_000_123 }),
      event(typeName, "b.é", 1, 2, { bytes: new Uint8Array(0), writtenAt: 1_600_000_000_124 }),
      event(typeName, "a", 2, 3, { bytes: all, writtenAt: 1_600_000_000_999 }),
      event(typeName, "a", 3, 4, { version: 2_147_483_647, writtenAt: 1_600_000_001_000 }),
    ];
    await admin.importEvents(events);
    const log = admin.eventLog;
    const byType = await collect(log.eventsByType(typeName, 0));
    assert.deepEqual(kept(byType, admin.keepsPositions), kept(events, admin.keepsPositions));
    const positions = byType.map((e) => e.position);
    for (let i = 1; i < positions.length; i++) assert.ok(positions[i]! > positions[i - 1]!);
    const byId = await collect(log.eventsById(typeName, "a", 1));
    assert.deepEqual(
      kept(byId, admin.keepsPositions),
      kept([0, 2, 3].map((i) => events[i]!), admin.keepsPositions),
    );
    assert.equal(await log.lastSeqNo(typeName, "b.é"), 1);
    const head = (await admin.entityTypes()).find((t) => t.typeName === typeName);
    assert.deepEqual(head, {
      typeName,
      entities: 2,
      events: 4,
      headPosition: positions.at(-1),
    });
    // The log goes on after the import: the next seqNo, a position above the imported ones;
    // an import after it continues the log's positions, and the log's next append follows it.
    assert.equal(await log.persist(typeName, "a", 3, [bytes(9)]), 4);
    const next = (await collect(log.eventsById(typeName, "a", 4)))[0]!;
    assert.ok(next.position > positions.at(-1)!, `position ${next.position} after the import`);
    await admin.importEvents([event(typeName, "a", 5, next.position + 1)]);
    assert.equal(await log.lastSeqNo(typeName, "a"), 5);
    assert.equal(await log.persist(typeName, "b.é", 1, [bytes(8)]), 2);
    const after = await collect(log.eventsByType(typeName, 0));
    const afterPositions = after.map((e) => e.position);
    for (let i = 1; i < afterPositions.length; i++) {
      assert.ok(afterPositions[i]! > afterPositions[i - 1]!, `positions ${afterPositions}`);
    }
    if (admin.keepsPositions) assert.deepEqual(afterPositions, [1, 2, 3, 4, 5, 6, 7]);
    await admin.importEvents([]);
  });

  check(
    "importEvents refuses a taken seqNo with ConcurrencyError, writing nothing",
    async (admin) => {
      const typeName = uniqueTypeName();
      await admin.eventLog.persist(typeName, "a", null, [bytes(1), bytes(2)]);
      const before = await collect(admin.eventLog.eventsByType(typeName, 0));
      const head = before.at(-1)!.position;
      const error = await rejection(admin.importEvents([
        event(typeName, "a", 2, head + 1),
        event(typeName, "a", 3, head + 2),
      ]));
      assert.ok(isConcurrencyError(error), `expected ConcurrencyError, got ${error}`);
      assert.equal(error.typeName, typeName);
      assert.equal(error.id, "a");
      assert.equal(error.actual, 2);
      const fresh = await rejection(admin.importEvents([
        event(typeName, "a", 1, head + 1),
        event(typeName, "b", 1, head + 2),
      ]));
      assert.ok(isConcurrencyError(fresh), `expected ConcurrencyError, got ${fresh}`);
      assert.equal(fresh.expected, null);
      assert.deepEqual(await collect(admin.eventLog.eventsByType(typeName, 0)), before);
      assert.equal(await admin.eventLog.lastSeqNo(typeName, "b"), null);
    },
  );

  check("importEvents refuses a seqNo gap, writing nothing", async (admin) => {
    const typeName = uniqueTypeName();
    await admin.eventLog.persist(typeName, "a", null, [bytes(1)]);
    const head = (await collect(admin.eventLog.eventsByType(typeName, 0))).at(-1)!.position;
    await assert.rejects(
      admin.importEvents([event(typeName, "a", 3, head + 1)]),
      (e: Error) => e instanceof RangeError && /seqNo 3 does not continue/.test(e.message),
    );
    await assert.rejects(
      admin.importEvents([event(typeName, "c", 1, head + 1), event(typeName, "c", 3, head + 2)]),
      (e: Error) => e instanceof RangeError && /events\[1\]\.seqNo 3/.test(e.message),
    );
    assert.equal(await admin.eventLog.lastSeqNo(typeName, "a"), 1);
    assert.equal(await admin.eventLog.lastSeqNo(typeName, "c"), null);
  });

  check(
    "importEvents takes an entity that starts above seqNo 1 (its first events were deleted)",
    async (admin) => {
      const typeName = uniqueTypeName();
      await admin.importEvents([event(typeName, "b", 3, 5), event(typeName, "b", 4, 6)]);
      assert.equal(await admin.eventLog.lastSeqNo(typeName, "b"), 4);
      const events = await collect(admin.eventLog.eventsById(typeName, "b", 1));
      assert.deepEqual(events.map((e) => e.seqNo), [3, 4]);
      assert.equal(await admin.eventLog.persist(typeName, "b", 4, [bytes(9)]), 5);
      assert.deepEqual(await collect(admin.entityIds(typeName)), ["b"]);
    },
  );

  check("importEvents refuses positions that do not follow, writing nothing", async (admin) => {
    const typeName = uniqueTypeName();
    await admin.eventLog.persist(typeName, "a", null, [bytes(1), bytes(2)]);
    const head = (await collect(admin.eventLog.eventsByType(typeName, 0))).at(-1)!.position;
    await assert.rejects(
      admin.importEvents([event(typeName, "b", 1, head + 5), event(typeName, "c", 1, head + 5)]),
      (e: Error) => e instanceof RangeError && /events\[1\]\.position/.test(e.message),
    );
    if (admin.keepsPositions) {
      for (const position of [head - 1, head]) {
        await assert.rejects(
          admin.importEvents([event(typeName, "b", 1, position)]),
          (e: Error) =>
            e instanceof RangeError && /is not above the type's head position/.test(e.message),
        );
      }
    }
    assert.equal(await admin.eventLog.lastSeqNo(typeName, "b"), null);
    assert.equal(await admin.eventLog.lastSeqNo(typeName, "c"), null);
    assert.equal((await collect(admin.eventLog.eventsByType(typeName, 0))).length, 2);
  });

  check("importEvents keeps the gaps deleted events left in positions", async (admin) => {
    const typeName = uniqueTypeName();
    await admin.importEvents([event(typeName, "a", 1, 1), event(typeName, "b", 1, 4)]);
    await admin.importEvents([event(typeName, "c", 1, 7)]);
    const events = await collect(admin.eventLog.eventsByType(typeName, 0));
    assert.deepEqual(events.map((e) => e.id), ["a", "b", "c"]);
    if (admin.keepsPositions) assert.deepEqual(events.map((e) => e.position), [1, 4, 7]);
    await admin.eventLog.persist(typeName, "d", null, [bytes(1)]);
    const appended = await collect(admin.eventLog.eventsById(typeName, "d", 1));
    assert.ok(appended[0]!.position > events[2]!.position, "an append lands above the imports");
  });

  check("a live reader sees imported events", async (admin) => {
    const typeName = uniqueTypeName();
    const live = take(admin.eventLog.eventsByType(typeName, 0, { live: true }), 3, 20_000);
    const liveById = take(admin.eventLog.eventsById(typeName, "a", 1, { live: true }), 2, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await admin.importEvents([
      event(typeName, "a", 1, 1),
      event(typeName, "b", 1, 2),
      event(typeName, "a", 2, 3),
    ]);
    assert.deepEqual((await live).map((e) => [e.id, e.seqNo]), [["a", 1], ["b", 1], ["a", 2]]);
    assert.deepEqual((await liveById).map((e) => e.seqNo), [1, 2]);
  });

  check("projections lists offsets and resetProjection moves one", async (admin) => {
    const offsetStore = await options.offsetStore(admin);
    const [first, second] = [uniqueTypeName("p"), uniqueTypeName("q")].sort(compareCodePoints);
    for (const [name, to] of [[first!, 7], [second!, 3]] as const) {
      const lease = await offsetStore.acquire(name);
      await lease.commit({ from: await lease.load(), to }, () => Promise.resolve());
      await lease.release();
    }
    const listed = (await admin.projections()).filter((p) => p.name === first || p.name === second);
    assert.deepEqual(listed.map((p) => [p.name, p.offset]), [[first, 7], [second, 3]]);
    for (const p of listed) {
      assert.ok(p.updatedAt === null || Number.isInteger(p.updatedAt), `updatedAt ${p.updatedAt}`);
    }
    const names = (await admin.projections()).map((p) => p.name);
    assert.deepEqual(names, [...names].sort(compareCodePoints), "projections in name order");
    await admin.resetProjection(first!, 0);
    assert.equal(await offsetStore.load(first!), 0);
    await admin.resetProjection(second!, 10);
    assert.equal(await offsetStore.load(second!), 10);
    const fresh = uniqueTypeName("p");
    await admin.resetProjection(fresh, 4);
    assert.equal(await offsetStore.load(fresh), 4);
  });

  check("resetProjection refuses a projection a runner holds, changing nothing", async (admin) => {
    const offsetStore = await options.offsetStore(admin);
    const name = uniqueTypeName("p");
    const lease = await offsetStore.acquire(name);
    try {
      await lease.commit({ from: 0, to: 5 }, () => Promise.resolve());
      const error = await rejection(admin.resetProjection(name, 0));
      assert.ok(isProjectionError(error), `expected ProjectionError, got ${error}`);
      assert.equal(error.reason, "locked");
      assert.match(error.message, new RegExp(`Cannot reset projection "${name}"`));
      assert.equal(await offsetStore.load(name), 5);
    } finally {
      await lease.release();
    }
    await admin.resetProjection(name, 1);
    assert.equal(await offsetStore.load(name), 1);
  });

  check(
    "projections lists each type of a projection over several types; resets move all or one",
    async (admin) => {
      const offsetStore = await options.offsetStore(admin);
      const name = uniqueTypeName("m");
      const types = ["account", "transfer"];
      const lease = await offsetStore.acquire(name);
      try {
        assert.ok(lease.commitTypes && lease.loadTypes, "the offset store has commitTypes");
        await lease.commitTypes(
          new Map([["account", { from: 0, to: 5 }], ["transfer", { from: 0, to: 8 }]]),
          () => Promise.resolve(),
        );
        const error = await rejection(admin.resetProjection(name, 0, { typeName: "account" }));
        assert.ok(isProjectionError(error) && error.reason === "locked", `got ${error}`);
        assert.deepEqual(await lease.loadTypes(types), new Map([["account", 5], ["transfer", 8]]));
      } finally {
        await lease.release();
      }
      const rows = async () =>
        (await admin.projections()).filter((p) => p.name === name).map((
          p,
        ) => [p.typeName, p.offset]);
      assert.deepEqual(await rows(), [["account", 5], ["transfer", 8]]);
      const listed = (await admin.projections()).find((p) => p.name === name)!;
      assert.ok(Number.isInteger(listed.updatedAt) || listed.updatedAt === null);
      const stored = async () => await offsetStore.loadTypes!(name, types);

      await admin.resetProjection(name, 2, { typeName: "transfer" });
      assert.deepEqual(await stored(), new Map([["account", 5], ["transfer", 2]]));
      await admin.resetProjection(name, 0);
      assert.deepEqual(await stored(), new Map([["account", 0], ["transfer", 0]]));
      assert.deepEqual(await rows(), [["account", 0], ["transfer", 0]], "no single-type row made");
      await admin.resetProjection(name, 3, { typeName: "audit" });
      assert.deepEqual(await rows(), [["account", 0], ["audit", 3], ["transfer", 0]]);
      assert.equal(await offsetStore.load(name), 0, "the single-type offset is untouched");

      // A name with both kinds lists its single-type row first, and a reset of all sets both.
      const single = await offsetStore.acquire(name);
      await single.commit({ from: 0, to: 9 }, () => Promise.resolve());
      await single.release();
      assert.deepEqual(await rows(), [[undefined, 9], ["account", 0], ["audit", 3], [
        "transfer",
        0,
      ]]);
      await admin.resetProjection(name, 1);
      assert.deepEqual(await rows(), [[undefined, 1], ["account", 1], ["audit", 1], [
        "transfer",
        1,
      ]]);
      const names = (await admin.projections()).map((p) => p.name);
      assert.deepEqual(names, [...names].sort(compareCodePoints), "projections in name order");
    },
  );

  check("every call refuses bad arguments with an error naming them", async (admin) => {
    const typeName = uniqueTypeName();
    // Bad arguments are refused synchronously or as a rejection; either way nothing is written.
    const bad = async (call: () => unknown, message: RegExp): Promise<void> => {
      let error: unknown;
      try {
        await call();
      } catch (e) {
        error = e;
      }
      assertArgumentError(error, message);
    };
    const any = admin as unknown as Record<string, (...args: unknown[]) => unknown>;
    const call = (method: string, ...args: unknown[]) => () => any[method]!.call(admin, ...args);
    await bad(call("entityIds", ""), /Invalid typeName ""/);
    await bad(call("entityIds", typeName, { limit: 1 }), /Unknown .*option "limit"/);
    await bad(call("entityIds", typeName, { signal: "no" }), /signal/);
    await bad(call("snapshots", "a/b"), /Invalid typeName "a\/b"/);
    await bad(call("schema", { signal: 1 }), /signal/);
    await bad(call("setup", { force: true }), /Unknown .*option "force"/);
    await bad(call("entityTypes", { x: 1 }), /Unknown .*option "x"/);
    await bad(call("projections", { x: 1 }), /Unknown .*option "x"/);
    await bad(call("resetProjection", "bad name", 0), /Invalid projection name "bad name"/);
    await bad(call("resetProjection", "p", -1), /Invalid offset -1/);
    await bad(call("resetProjection", "p", 1.5), /Invalid offset 1.5/);
    await bad(call("resetProjection", "p", 0, { typeName: "a b" }), /Invalid typeName "a b"/);
    await bad(call("resetProjection", "p", 0, { typeName: 5 }), /Invalid typeName 5/);
    await bad(call("resetProjection", "p", 0, { type: "a" }), /Unknown .*option "type"/);
    await bad(call("importSnapshot", null), /Invalid snapshot null/);
    await bad(
      call("importSnapshot", { typeName, id: "", seqNo: 1, bytes: bytes(1), version: 1 }),
      /Invalid id ""/,
    );
    await bad(
      call("importSnapshot", { typeName, id: "a", seqNo: 0, bytes: bytes(1), version: 1 }),
      /Invalid seqNo 0/,
    );
    await bad(
      call("importSnapshot", { typeName, id: "a", seqNo: 1, bytes: bytes(1), version: 0 }),
      /version 0/,
    );
    await bad(call("importEvents", "events"), /Invalid events "events"/);
    await bad(call("importEvents", [null]), /Invalid events\[0\] null/);
    const good = event(typeName, "a", 1, 1);
    await bad(
      call("importEvents", [good, { ...good, seqNo: 2, typeName: "" }]),
      /events\[1\]: Invalid typeName ""/,
    );
    await bad(call("importEvents", [{ ...good, id: "" }]), /events\[0\]: Invalid id ""/);
    await bad(call("importEvents", [{ ...good, seqNo: 0 }]), /Invalid events\[0\]\.seqNo 0/);
    await bad(
      call("importEvents", [{ ...good, position: -1 }]),
      /Invalid events\[0\]\.position -1/,
    );
    await bad(
      call("importEvents", [{ ...good, writtenAt: 1.5 }]),
      /Invalid events\[0\]\.writtenAt 1.5/,
    );
    await bad(call("importEvents", [{ ...good, version: 0 }]), /Invalid events\[0\]\.version 0/);
    await bad(call("importEvents", [{ ...good, bytes: [1] }]), /Invalid events\[0\]\.bytes/);
    await bad(call("importEvents", [{ ...good, metadata: { commandId: 5 } }]), /commandId/);
    await bad(call("importEvents", [good], { x: 1 }), /Unknown .*option "x"/);
    assert.equal(await admin.eventLog.lastSeqNo(typeName, "a"), null);
    assert.deepEqual(await collect(admin.snapshots(typeName)), []);
    await assert.rejects(
      admin.importEvents([good], { signal: AbortSignal.abort(new Error("gave up")) }),
      /gave up/,
    );
    assert.equal(await admin.eventLog.lastSeqNo(typeName, "a"), null);
  });
}
