// Projections over several entity types on the memory stores: every event of each type
// counted, each type in position order, offsets per type resumed after a restart, error
// strategies, the merged read failing as one, the name shared with single-type projections,
// batches and their hook, reset, and the memory store's offsets per type.

import { test } from "node:test";
import assert from "node:assert/strict";
import { jsonBinarize, MemoryEventLog, type PersistedEvent } from "../mod.ts";
import { uniqueTypeName, within } from "../testing/mod.ts";
import {
  type ErrorStrategy,
  isProjectionError,
  MemoryOffsetStore,
  MultiTypeProjection,
  type OffsetStore,
  Projection,
  type ProjectionError,
} from "../projection/mod.ts";

const binarize = jsonBinarize<number, number>();

/** Persists `values` on `typeName`, entity `id` (default: one entity per value, e0, e1, …). */
async function write(log: MemoryEventLog, typeName: string, values: number[], id?: string) {
  for (const [i, value] of values.entries()) {
    const entity = id ?? `e${i}`;
    const last = await log.lastSeqNo(typeName, entity);
    await log.persist(typeName, entity, last, [binarize.eventToBytes(value)]);
  }
}

/** Two fresh type names. */
function twoTypes(): [string, string] {
  return [uniqueTypeName("account"), uniqueTypeName("transfer")];
}

/** A projection over `types` that records what its handler saw, per type. */
function recorder(
  log: MemoryEventLog,
  types: readonly string[],
  options: {
    store?: OffsetStore<undefined>;
    failOn?: (typeName: string, value: number, attempt: number) => boolean;
    errorStrategy?: ErrorStrategy;
    name?: string;
    batchSize?: number;
  } = {},
) {
  const seen = new Map<string, number[]>(types.map((t) => [t, []]));
  const positions = new Map<string, number[]>(types.map((t) => [t, []]));
  const errors: ProjectionError[] = [];
  const attempts = new Map<string, number>();
  const projection = new MultiTypeProjection("recorder", {
    types: Object.fromEntries(types.map((t) => [t, binarize])),
    eventLog: log,
    offsetStore: options.store ?? new MemoryOffsetStore(),
    errorStrategy: options.errorStrategy,
    batchSize: options.batchSize,
    onError: (error) => errors.push(error),
    handleEvent: ({ typeName, event, position }) => {
      const key = `${typeName}/${event}`;
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      if (options.failOn?.(typeName, event, attempt)) throw new Error(`No ${key} today`);
      seen.get(typeName)!.push(event);
      positions.get(typeName)!.push(position);
    },
  });
  return { projection, seen, positions, errors };
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

for (const batchSize of [1, 25]) {
  test(`both types counted, each in position order (batchSize ${batchSize})`, async () => {
    const log = new MemoryEventLog();
    const [a, b] = twoTypes();
    const { projection, seen, positions } = recorder(log, [a, b], { batchSize });
    await projection.run();
    // Interleaved writers of both types, several entities each.
    await Promise.all([
      (async () => {
        for (let i = 1; i <= 60; i++) await write(log, a, [i], `a${i % 4}`);
      })(),
      (async () => {
        for (let i = 1; i <= 40; i++) await write(log, b, [i], `b${i % 3}`);
      })(),
    ]);
    const state = await within(projection.whenCaughtUp(), 10_000, "whenCaughtUp");
    assert.deepEqual(seen.get(a), range(1, 60));
    assert.deepEqual(seen.get(b), range(1, 40));
    assert.deepEqual(positions.get(a), range(1, 60));
    assert.deepEqual(positions.get(b), range(1, 40));
    assert.deepEqual(state.offsets, { [a]: 60, [b]: 40 });
    await projection.stop();
  });
}

test("the envelope carries the type name and its codec's event", async () => {
  const log = new MemoryEventLog();
  const [a, b] = twoTypes();
  const text = jsonBinarize<string, unknown>();
  await log.persist(a, "x", null, [binarize.eventToBytes(7)]);
  await log.persist(b, "y", null, [text.eventToBytes("seven")]);
  const seen: string[] = [];
  const projection = new MultiTypeProjection("envelopes", {
    types: { [a]: binarize, [b]: text } as { [a]: typeof binarize; [b]: typeof text },
    eventLog: log,
    offsetStore: new MemoryOffsetStore(),
    handleEvent: ({ typeName, id, seqNo, position, event, metadata }) => {
      seen.push(`${typeName} ${id} ${seqNo} ${position} ${JSON.stringify(event)}`);
      assert.deepEqual(metadata, {});
    },
  });
  await projection.run();
  await within(projection.whenCaughtUp(), 5_000, "whenCaughtUp");
  assert.deepEqual(seen.sort(), [`${a} x 1 1 7`, `${b} y 1 1 "seven"`].sort());
  await projection.stop();
});

test("a restart resumes each type from its own offset", async () => {
  const log = new MemoryEventLog();
  const store = new MemoryOffsetStore();
  const [a, b] = twoTypes();
  await write(log, a, [1, 2, 3]);
  await write(log, b, [1]);
  const first = recorder(log, [a, b], { store });
  await first.projection.run();
  await within(first.projection.whenCaughtUp(), 5_000, "whenCaughtUp");
  await first.projection.stop();
  assert.deepEqual(await store.loadTypes("recorder", [a, b]), new Map([[a, 3], [b, 1]]));

  await write(log, a, [4]);
  await write(log, b, [2, 3]);
  const second = recorder(log, [a, b], { store });
  const started = await second.projection.run();
  assert.deepEqual(started.offsets, { [a]: 3, [b]: 1 });
  await within(second.projection.whenCaughtUp(), 5_000, "whenCaughtUp");
  assert.deepEqual(second.seen.get(a), [4]);
  assert.deepEqual(second.seen.get(b), [2, 3]);
  assert.deepEqual(second.positions.get(b), [2, 3]);
  await second.projection.stop();
  // The single-type offset of the name is not touched.
  assert.equal(await store.load("recorder"), 0);
});

test("skip: a failing event of one type is skipped, the rest of both types counted", async () => {
  const log = new MemoryEventLog();
  const [a, b] = twoTypes();
  await write(log, a, [1, 2, 3]);
  await write(log, b, [1, 2, 3]);
  const { projection, seen, errors } = recorder(log, [a, b], {
    errorStrategy: { type: "skip" },
    failOn: (typeName, value) => typeName === b && value === 2,
  });
  await projection.run();
  const state = await within(projection.whenCaughtUp(), 5_000, "whenCaughtUp");
  assert.deepEqual(seen.get(a), [1, 2, 3]);
  assert.deepEqual(seen.get(b), [1, 3]);
  assert.equal(state.skipped, 1);
  assert.deepEqual(state.offsets, { [a]: 3, [b]: 3 });
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.reason, "event-failed");
  assert.match(errors[0]!.message, new RegExp(`event "${b}/e1" seqNo 1 at position 2`));
  await projection.stop();
});

test("retry: a failing event is retried until it succeeds, in a batch of both types", async () => {
  const log = new MemoryEventLog();
  const [a, b] = twoTypes();
  await write(log, a, [1, 2]);
  await write(log, b, [1, 2]);
  const { projection, seen, errors } = recorder(log, [a, b], {
    batchSize: 10,
    errorStrategy: { type: "retry", initialDelayMs: 1, maxRetries: 5 },
    failOn: (typeName, value, attempt) => typeName === a && value === 2 && attempt < 3,
  });
  await projection.run();
  const state = await within(projection.whenCaughtUp(), 5_000, "whenCaughtUp");
  assert.deepEqual(seen.get(a)!.filter((v) => v === 2), [2]);
  assert.deepEqual(state.offsets, { [a]: 2, [b]: 2 });
  assert.equal(state.skipped, 0);
  assert.ok(errors.length >= 1 && errors.every((e) => e.reason === "event-failed"));
  await projection.stop();
});

test("stop: a failing event stops the run; its type's offset stays before it", async () => {
  const log = new MemoryEventLog();
  const store = new MemoryOffsetStore();
  const [a, b] = twoTypes();
  await write(log, a, [1, 2, 3]);
  const { projection, seen } = recorder(log, [a, b], {
    store,
    errorStrategy: { type: "stop" },
    failOn: (typeName, value) => typeName === a && value === 2,
  });
  await projection.run();
  const state = await within(projection.whenStopped(), 5_000, "whenStopped");
  assert.equal(state.running, false);
  assert.equal(state.lastError?.reason, "event-failed");
  assert.deepEqual(seen.get(a), [1]);
  assert.deepEqual(await store.loadTypes("recorder", [a, b]), new Map([[a, 1], [b, 0]]));
});

test("a failed read of one type fails the read of all, reported and retried from the offsets", async () => {
  const log = new MemoryEventLog();
  const [a, b] = twoTypes();
  await write(log, a, [1, 2, 3]);
  await write(log, b, [1, 2, 3]);
  let reads = 0;
  // The first live read of `b` breaks after one event.
  const flaky: MemoryEventLog = Object.assign(Object.create(log), {
    eventsByType: (name: string, from: number, options: object) => {
      const stream = log.eventsByType(name, from, options);
      if (name !== b || ++reads > 1) return stream;
      let passed = 0;
      return stream.pipeThrough(
        new TransformStream<PersistedEvent, PersistedEvent>({
          transform(event, controller) {
            if (passed++ === 1) controller.error(new Error("connection reset"));
            else controller.enqueue(event);
          },
        }),
      );
    },
  });
  const { projection, seen, errors } = recorder(flaky, [a, b], {
    errorStrategy: { type: "retry", initialDelayMs: 1 },
  });
  await projection.run();
  await within(projection.whenCaughtUp(), 5_000, "whenCaughtUp");
  assert.deepEqual(seen.get(a), [1, 2, 3]);
  assert.deepEqual(seen.get(b), [1, 2, 3]);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.reason, "read-failed");
  assert.match(errors[0]!.message, new RegExp(`the read of "${b}" failed: .*connection reset`));
  await projection.stop();
});

test("with the stop strategy, a read of one type that keeps failing stops the projection", async () => {
  const log = new MemoryEventLog();
  const [a, b] = twoTypes();
  await write(log, a, [1]);
  const broken: MemoryEventLog = Object.assign(Object.create(log), {
    eventsByType: (name: string, from: number, options: object) =>
      name === b
        ? new ReadableStream({ pull: (c) => c.error(new Error("no such stream")) })
        : log.eventsByType(name, from, options),
  });
  const { projection, errors } = recorder(broken, [a, b], { errorStrategy: { type: "stop" } });
  await projection.run();
  const state = await within(projection.whenStopped(), 2_000, "whenStopped");
  assert.equal(state.running, false);
  assert.equal(state.lastError?.reason, "read-failed");
  assert.match(state.lastError!.message, /no such stream/);
  assert.equal(errors.length, 1);
});

test("a read of one type that ended is a failed read, not a quiet stall", async () => {
  const log = new MemoryEventLog();
  const [a, b] = twoTypes();
  const ending: MemoryEventLog = Object.assign(Object.create(log), {
    eventsByType: (name: string, from: number, options: object) =>
      name === b
        ? new ReadableStream({ start: (c) => c.close() })
        : log.eventsByType(name, from, options),
  });
  const { projection } = recorder(ending, [a, b], { errorStrategy: { type: "stop" } });
  await projection.run();
  const state = await within(projection.whenStopped(), 2_000, "whenStopped");
  assert.equal(state.lastError?.reason, "read-failed");
  assert.match(state.lastError!.message, new RegExp(`the live read of "${b}" ended`));
});

test("a single-type and a multi-type projection of the same name exclude each other", async () => {
  const log = new MemoryEventLog();
  const store = new MemoryOffsetStore();
  const [a, b] = twoTypes();
  const multi = recorder(log, [a, b], { store });
  const single = new Projection("recorder", {
    typeName: a,
    eventLog: log,
    binarize,
    offsetStore: store,
    handleEvent: () => {},
  });
  await multi.projection.run();
  const refused = await single.run().catch((e) => e);
  assert.ok(isProjectionError(refused) && refused.reason === "locked", String(refused));
  await multi.projection.stop();

  await single.run();
  const other = recorder(log, [a, b], { store });
  const refusedToo = await other.projection.run().catch((e) => e);
  assert.ok(isProjectionError(refusedToo) && refusedToo.reason === "locked", String(refusedToo));
  await single.stop();
});

test("a batch holds events of both types; one projectionBatch per commit", async () => {
  const log = new MemoryEventLog();
  const [a, b] = twoTypes();
  await write(log, a, [1, 2, 3]);
  await write(log, b, [1, 2]);
  const batches: string[][] = [];
  const hooked: number[] = [];
  let ended = 0;
  const projection = new MultiTypeProjection("batches", {
    types: { [a]: binarize, [b]: binarize },
    eventLog: log,
    offsetStore: new MemoryOffsetStore(),
    batchSize: 10,
    batchMs: 50,
    instrumentation: {
      projectionBatch: (name, events) => {
        assert.equal(name, "batches");
        hooked.push(events.length);
        return { ended: () => void ended++ };
      },
    },
    handleBatch: (envelopes) =>
      void batches.push(envelopes.map(({ typeName, position }) => `${typeName}:${position}`)),
  });
  await projection.run();
  const state = await within(projection.whenCaughtUp(), 5_000, "whenCaughtUp");
  assert.deepEqual(state.offsets, { [a]: 3, [b]: 2 });
  const all = batches.flat();
  assert.deepEqual(all.filter((e) => e.startsWith(`${a}:`)), [`${a}:1`, `${a}:2`, `${a}:3`]);
  assert.deepEqual(all.filter((e) => e.startsWith(`${b}:`)), [`${b}:1`, `${b}:2`]);
  assert.ok(batches.some((batch) => new Set(batch.map((e) => e.split(":")[0])).size === 2));
  assert.deepEqual(hooked, batches.map((batch) => batch.length));
  assert.equal(ended, batches.length);
  await projection.stop();
});

test("reset sets the offsets of the types given, or of all to 0; clear runs with it", async () => {
  const log = new MemoryEventLog();
  const store = new MemoryOffsetStore();
  const [a, b] = twoTypes();
  await write(log, a, [1, 2, 3]);
  await write(log, b, [1, 2]);
  const { projection, seen } = recorder(log, [a, b], { store });
  await projection.run();
  await within(projection.whenCaughtUp(), 5_000, "whenCaughtUp");
  await assert.rejects(projection.reset(), (e) => isProjectionError(e) && e.reason === "running");
  await projection.stop();

  await projection.reset({ to: { [b]: 1 } });
  assert.deepEqual(projection.state().offsets, { [a]: 3, [b]: 1 });
  await projection.run();
  await within(projection.whenCaughtUp(), 5_000, "whenCaughtUp");
  assert.deepEqual(seen.get(b), [1, 2, 2]);
  await projection.stop();

  let cleared = 0;
  await projection.reset({ clear: () => Promise.resolve(void cleared++) });
  assert.equal(cleared, 1);
  assert.deepEqual(await store.loadTypes("recorder", [a, b]), new Map([[a, 0], [b, 0]]));
  await assert.rejects(projection.reset({ to: { nope: 1 } }), /Invalid type name "nope"/);
  await assert.rejects(projection.reset({ to: { [a]: -1 } }), /Invalid position -1/);
  await assert.rejects(projection.reset({ to: {} }), /at least one type/);
});

test("bad options are refused before anything runs, naming what is wrong", () => {
  const log = new MemoryEventLog();
  const store = new MemoryOffsetStore();
  const make = (options: object) =>
    new MultiTypeProjection("checked", {
      eventLog: log,
      offsetStore: store,
      handleEvent: () => {},
      ...options,
    } as never);
  assert.throws(() => make({}), /Missing MultiTypeProjection option types/);
  assert.throws(() => make({ types: {} }), /expected at least one type name/);
  assert.throws(() => make({ types: { "bad name": binarize } }), /Invalid typeName "bad name"/);
  assert.throws(() => make({ types: { a: {} } }), /option types\.a: expected a Binarize/);
  assert.throws(() => make({ types: { a: binarize }, typeName: "a" }), /typeName/);
  assert.throws(
    () => make({ types: { a: binarize }, handleBatch: () => {} }),
    /exactly one of handleEvent and handleBatch/,
  );
  assert.throws(() => make({ types: { a: binarize }, batchSize: 0 }), /batchSize/);
  const withoutTypes = { load: store.load.bind(store), acquire: store.acquire.bind(store) };
  assert.throws(
    () => make({ types: { a: binarize }, offsetStore: withoutTypes }),
    /keeps offsets per type \(loadTypes and commitTypes\)/,
  );
  assert.throws(() => new MultiTypeProjection("bad name", {} as never), /projection name/);
});

test("MemoryOffsetStore: commitTypes moves every type or none, and checks its arguments", async () => {
  const store = new MemoryOffsetStore();
  const lease = await store.acquire("typed");
  await lease.commitTypes!(
    new Map([["a", { from: 0, to: 2 }], ["b", { from: 0, to: 5 }]]),
    async () => {},
  );
  let worked = false;
  const stale = await lease.commitTypes!(
    new Map([["a", { from: 2, to: 3 }], ["b", { from: 4, to: 6 }]]),
    () => Promise.resolve(void (worked = true)),
  ).catch((e) => e);
  assert.ok(isProjectionError(stale) && stale.reason === "offset-conflict", String(stale));
  assert.match(stale.message, /type "b".*expected 4, found 5/);
  assert.equal(worked, false);
  assert.deepEqual(
    await lease.loadTypes!(["a", "b", "c"]),
    new Map([["a", 2], ["b", 5], ["c", 0]]),
  );
  const failing = lease.commitTypes!(new Map([["a", { from: 2, to: 3 }]]), () => {
    throw new Error("handler failed");
  });
  await assert.rejects(failing, /handler failed/);
  assert.deepEqual(await store.loadTypes("typed", ["a"]), new Map([["a", 2]]));
  await assert.rejects(lease.commitTypes!(new Map(), async () => {}), /non-empty Map/);
  await assert.rejects(
    lease.commitTypes!(new Map([["a", { from: 2, to: -1 }]]), async () => {}),
    /to -1, expected an integer ≥ 0/,
  );
  await assert.rejects(lease.loadTypes!([]), /non-empty array/);
  await assert.rejects(store.loadTypes("typed", ["a", "a"]), /repeated/);
  await lease.release();
});
