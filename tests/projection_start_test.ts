// Starting a projection is bounded: an offset store that never answers makes `run()` reject
// within `startTimeoutMs` with a ProjectionError naming the call that hung, the state says so,
// and `stop()` and a later `run()` still work. The stores here are test doubles of the
// OffsetStore port (our own interface) whose calls hang on purpose.

import { test } from "node:test";
import assert from "node:assert/strict";
import { jsonBinarize, MemoryEventLog } from "../mod.ts";
import { uniqueTypeName, within } from "../testing/mod.ts";
import {
  isProjectionError,
  MemoryOffsetStore,
  type OffsetLease,
  type OffsetStore,
  Projection,
  type ProjectionError,
} from "../projection/mod.ts";

const binarize = jsonBinarize<number, number>();
const never = <T>() => new Promise<T>(() => {});

/** A memory store whose `acquire` or lease `load` can be made to hang, counting releases. */
function hangingStore(hang: { acquire?: boolean; load?: boolean; lateAcquireMs?: number }) {
  const inner = new MemoryOffsetStore();
  const calls = { acquire: 0, load: 0, release: 0 };
  const store: OffsetStore<undefined> = {
    load: (name, options) => inner.load(name, options),
    async acquire(name, options) {
      calls.acquire++;
      if (hang.acquire && calls.acquire === 1) {
        if (hang.lateAcquireMs === undefined) return await never();
        // Answers only after the caller gave up, ignoring its signal.
        await new Promise((resolve) => setTimeout(resolve, hang.lateAcquireMs));
        return wrap(await inner.acquire(name, {}));
      }
      return wrap(await inner.acquire(name, options));
    },
  };
  function wrap(lease: OffsetLease<undefined>): OffsetLease<undefined> {
    return {
      name: lease.name,
      load: (options) => {
        calls.load++;
        return hang.load && calls.load === 1 ? never() : lease.load(options);
      },
      commit: (change, work) => lease.commit(change, work),
      release: () => {
        calls.release++;
        return lease.release();
      },
    };
  }
  return { store, calls };
}

function projectionOver(store: OffsetStore<undefined>, errors: ProjectionError[] = []) {
  const seen: number[] = [];
  const eventLog = new MemoryEventLog();
  const typeName = uniqueTypeName();
  const projection = new Projection("hangs", {
    typeName,
    eventLog,
    binarize,
    offsetStore: store,
    startTimeoutMs: 200,
    onError: (error) => errors.push(error),
    handleEvent: ({ event }) => void seen.push(event),
  });
  return { projection, eventLog, typeName, seen };
}

test("run() rejects within startTimeoutMs when loading the offset never answers", async () => {
  const { store, calls } = hangingStore({ load: true });
  const errors: ProjectionError[] = [];
  const { projection, eventLog, typeName, seen } = projectionOver(store, errors);
  const error = await within(projection.run().catch((e) => e), 5_000, "run");
  assert.ok(isProjectionError(error), String(error));
  assert.equal(error.reason, "timeout");
  assert.match(error.message, /"hangs" did not start within 200 ms \(startTimeoutMs\)/);
  assert.match(error.message, /loading the offset/);
  const state = projection.state();
  assert.equal(state.running, false);
  assert.equal(state.lastError, error);
  assert.equal(calls.release, 1, "the name is given back");
  assert.equal((await within(projection.stop(), 2_000, "stop")).running, false);
  // The store answers now: the next run starts and handles events.
  await eventLog.persist(typeName, "a", null, [binarize.eventToBytes(7)]);
  await within(projection.run(), 2_000, "second run");
  await within(projection.whenCaughtUp(), 2_000, "whenCaughtUp");
  assert.deepEqual(seen, [7]);
  await within(projection.stop(), 2_000, "stop");
  assert.deepEqual(errors, [], "a start failure goes to run()'s caller, not to onError");
});

test("run() rejects within startTimeoutMs when acquiring the name never answers", async () => {
  const { store } = hangingStore({ acquire: true });
  const { projection } = projectionOver(store);
  const error = await within(projection.run().catch((e) => e), 5_000, "run");
  assert.ok(isProjectionError(error), String(error));
  assert.equal(error.reason, "timeout");
  assert.match(error.message, /acquiring the name/);
  assert.equal(projection.state().running, false);
  assert.equal((await within(projection.stop(), 2_000, "stop")).lastError, error);
  await within(projection.run(), 2_000, "second run");
  assert.equal(projection.state().running, true);
  await within(projection.stop(), 2_000, "stop");
});

test("a lease that arrives after the start timed out is given back", async () => {
  const { store, calls } = hangingStore({ acquire: true, lateAcquireMs: 400 });
  const { projection } = projectionOver(store);
  const error = await within(projection.run().catch((e) => e), 5_000, "run");
  assert.equal(error.reason, "timeout");
  await within(
    (async () => {
      while (calls.release === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    })(),
    5_000,
    "release of the late lease",
  );
  // The name is free again: a run on the same store starts.
  await within(projection.run(), 2_000, "second run");
  await within(projection.stop(), 2_000, "stop");
});

test("stop() during a hanging start ends it at once; run() rejects with the stop", async () => {
  const { store } = hangingStore({ load: true });
  const { projection } = projectionOver(store);
  const running = projection.run().catch((e) => e);
  await new Promise((resolve) => setTimeout(resolve, 20));
  await within(projection.stop(), 2_000, "stop");
  const error = await within(running, 2_000, "run");
  assert.ok(isProjectionError(error) && error.reason === "stopped", String(error));
  assert.equal(projection.state().running, false);
});

test("startTimeoutMs and unknown options are checked before anything runs", () => {
  const base = {
    typeName: "t",
    eventLog: new MemoryEventLog(),
    binarize,
    offsetStore: new MemoryOffsetStore(),
    handleEvent: () => {},
  };
  for (const startTimeoutMs of [0, -1, 1.5, Infinity, "30"]) {
    assert.throws(
      () => new Projection("p", { ...base, startTimeoutMs: startTimeoutMs as number }),
      (error: Error) =>
        error instanceof RangeError &&
        /Invalid Projection option startTimeoutMs/.test(error.message),
      String(startTimeoutMs),
    );
  }
  assert.throws(
    () => new Projection("p", { ...base, batchsize: 10 } as never),
    (error: Error) =>
      error instanceof TypeError &&
      /Unknown Projection option "batchsize": known options are .*batchSize/.test(error.message),
  );
  assert.throws(
    () => new Projection("p", { ...base, errorStrategy: { type: "skip", maxRetries: 3 } as never }),
    /Unknown errorStrategy option "maxRetries": known options are type/,
  );
  assert.throws(
    () => new Projection("p", { ...base, errorStrategy: { type: "retry", maxRetry: 3 } as never }),
    /Unknown errorStrategy option "maxRetry"/,
  );
});

test("stop() ends a whenCaughtUp whose read of the head hangs", async () => {
  const log = new MemoryEventLog();
  // The finite read that finds the head never ends unless its signal aborts.
  const slowHead: MemoryEventLog = Object.assign(Object.create(log), {
    eventsByType: (name: string, from: number, options: { live?: boolean; signal?: AbortSignal }) =>
      options.live ? log.eventsByType(name, from, options) : new ReadableStream({
        start(controller) {
          options.signal?.addEventListener("abort", () => controller.error(options.signal!.reason));
        },
      }),
  });
  const projection = new Projection("head", {
    typeName: uniqueTypeName(),
    eventLog: slowHead,
    binarize,
    offsetStore: new MemoryOffsetStore(),
    handleEvent: () => {},
  });
  await projection.run();
  const waiting = projection.whenCaughtUp().catch((e) => e);
  await new Promise((resolve) => setTimeout(resolve, 20));
  await within(projection.stop(), 2_000, "stop");
  const error = await within(waiting, 2_000, "whenCaughtUp");
  assert.ok(isProjectionError(error) && error.reason === "stopped", String(error));
});
