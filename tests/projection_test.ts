// Projections over the memory event log and the memory offset store: the read model, the
// loop's control (run, stop, signal, one loop per name), error strategies, batches, reset.

import { test } from "node:test";
import assert from "node:assert/strict";
import { isDecodeError, jsonBinarize, MemoryEventLog } from "../mod.ts";
import { uniqueTypeName, within } from "../testing/mod.ts";
import {
  type ErrorStrategy,
  isProjectionError,
  MemoryOffsetStore,
  Projection,
  type ProjectionError,
} from "../projection/mod.ts";
import { jsonBank, protobufBank, runLoad } from "./projection_fixtures.ts";

const binarize = jsonBinarize<number, number>();

/** Persists `values` as events of one entity each (ids e0, e1, …) or of `id`. */
async function write(log: MemoryEventLog, typeName: string, values: number[], id?: string) {
  for (const [i, value] of values.entries()) {
    const entity = id ?? `e${i}`;
    const last = await log.lastSeqNo(typeName, entity);
    await log.persist(typeName, entity, last, [binarize.eventToBytes(value)]);
  }
}

/** A projection of numbers that records what its handler saw. */
function recorder(
  log: MemoryEventLog,
  typeName: string,
  options: {
    store?: MemoryOffsetStore;
    failOn?: (value: number, attempt: number) => boolean;
    errorStrategy?: ErrorStrategy;
    name?: string;
  } = {},
) {
  const seen: number[] = [];
  const errors: ProjectionError[] = [];
  const attempts = new Map<number, number>();
  const projection = new Projection(options.name ?? "recorder", {
    typeName,
    eventLog: log,
    binarize,
    offsetStore: options.store ?? new MemoryOffsetStore(),
    errorStrategy: options.errorStrategy,
    onError: (error) => errors.push(error),
    handleEvent: ({ event }) => {
      const attempt = (attempts.get(event) ?? 0) + 1;
      attempts.set(event, attempt);
      if (options.failOn?.(event, attempt)) throw new Error(`No ${event} today`);
      seen.push(event);
    },
  });
  return { projection, seen, errors, attempts };
}

test("account balances built by a projection match the entities after a load (memory)", async () => {
  const eventLog = new MemoryEventLog();
  const bank = jsonBank(uniqueTypeName("account"));
  const balances = new Map<string, number>();
  let applied = 0;
  const projection = new Projection("balances", {
    typeName: bank.entity,
    eventLog,
    binarize: bank.binarize,
    offsetStore: new MemoryOffsetStore(),
    handleEvent: ({ id, event }) => {
      applied++;
      balances.set(id, (balances.get(id) ?? 0) + bank.change(event));
    },
  });
  await projection.run();
  const load = await runLoad(bank, eventLog, { accounts: 20, commandsPerAccount: 50 });
  await within(projection.whenCaughtUp(), 10_000, "whenCaughtUp");
  assert.deepEqual(balances, load.balances);
  assert.equal(applied, load.events);
  assert.equal(projection.state().offset, load.events);
  await projection.stop();
});

test("a projection decodes with any Binarize: protobuf events into balances", async () => {
  const eventLog = new MemoryEventLog();
  const bank = protobufBank(uniqueTypeName("account"));
  const load = await runLoad(bank, eventLog, { accounts: 5, commandsPerAccount: 30 });
  const balances = new Map<string, number>();
  const projection = new Projection("pb-balances", {
    typeName: bank.entity.typeName,
    eventLog,
    binarize: bank.binarize,
    offsetStore: new MemoryOffsetStore(),
    batchSize: 16,
    handleBatch: (envelopes) => {
      for (const { id, event } of envelopes) {
        balances.set(id, (balances.get(id) ?? 0) + bank.change(event));
      }
    },
  });
  await projection.run();
  await within(projection.whenCaughtUp(), 10_000, "whenCaughtUp");
  assert.deepEqual(balances, load.balances);
  await projection.stop();
});

test("a projection resumes after the stored offset and handles each event once", async () => {
  const log = new MemoryEventLog();
  const typeName = uniqueTypeName();
  const store = new MemoryOffsetStore();
  const { projection, seen } = recorder(log, typeName, { store });
  await write(log, typeName, [1, 2, 3]);
  await projection.run();
  await projection.whenCaughtUp();
  await projection.stop();
  assert.equal(await store.load("recorder"), 3);

  await write(log, typeName, [4, 5]);
  const again = recorder(log, typeName, { store });
  await again.projection.run();
  await again.projection.whenCaughtUp();
  assert.deepEqual(seen, [1, 2, 3]);
  assert.deepEqual(again.seen, [4, 5]);
  assert.equal(again.projection.state().offset, 5);
  await again.projection.stop();
});

test("stop takes effect at once while no event arrives, and later events stay unhandled", async () => {
  const log = new MemoryEventLog();
  const typeName = uniqueTypeName();
  const { projection, seen } = recorder(log, typeName);
  await write(log, typeName, [1]);
  await projection.run();
  await projection.whenCaughtUp();
  assert.equal(projection.state().running, true);
  // The loop now waits on a live read with nothing to come.
  const state = await within(projection.stop(), 2_000, "stop");
  assert.equal(state.running, false);
  await write(log, typeName, [2]);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(seen, [1]);
  assert.equal(projection.state().offset, 1);
});

test("aborting the signal given to run stops the projection", async () => {
  const log = new MemoryEventLog();
  const typeName = uniqueTypeName();
  const { projection } = recorder(log, typeName);
  const abort = new AbortController();
  await projection.run({ signal: abort.signal });
  abort.abort();
  const state = await within(projection.whenStopped(), 2_000, "whenStopped");
  assert.equal(state.running, false);
});

test("run twice, and stop then run at once, never make two loops", async () => {
  const log = new MemoryEventLog();
  const typeName = uniqueTypeName();
  let active = 0;
  let maxActive = 0;
  const seen: number[] = [];
  const projection = new Projection("one-loop", {
    typeName,
    eventLog: log,
    binarize,
    offsetStore: new MemoryOffsetStore(),
    handleEvent: async ({ event }) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.push(event);
      active--;
    },
  });
  await Promise.all([projection.run(), projection.run()]);
  await write(log, typeName, [1, 2, 3, 4, 5]);
  void projection.stop();
  await projection.run();
  void projection.stop();
  await projection.run();
  await write(log, typeName, [6, 7]);
  await projection.whenCaughtUp();
  assert.equal(maxActive, 1);
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7]);
  await projection.stop();
});

test("a second projection of the same name on the same store fails clearly, or waits", async () => {
  const log = new MemoryEventLog();
  const typeName = uniqueTypeName();
  const store = new MemoryOffsetStore();
  const first = recorder(log, typeName, { store, name: "shared" });
  await first.projection.run();

  const second = recorder(log, typeName, { store, name: "shared" });
  const error = await second.projection.run().catch((e) => e);
  assert.ok(isProjectionError(error) && error.reason === "locked", String(error));
  assert.match(error.message, /"shared".*already running/);
  assert.equal(second.projection.state().running, false);

  const waiting = new Projection("shared", {
    typeName,
    eventLog: log,
    binarize,
    offsetStore: store,
    onLocked: "wait",
    handleEvent: () => {},
  });
  const started = waiting.run();
  await write(log, typeName, [1, 2]);
  await first.projection.whenCaughtUp();
  await first.projection.stop();
  await within(started, 2_000, "the waiting run");
  assert.equal(waiting.state().offset, 2);
  await waiting.stop();
});

test("retry: a handler failing twice on one event is retried with backoff, then goes on", async () => {
  const log = new MemoryEventLog();
  const typeName = uniqueTypeName();
  const { projection, seen, errors, attempts } = recorder(log, typeName, {
    failOn: (value, attempt) => value === 2 && attempt <= 2,
    errorStrategy: { type: "retry", initialDelayMs: 1, maxDelayMs: 5 },
  });
  await write(log, typeName, [1, 2, 3]);
  await projection.run();
  await projection.whenCaughtUp();
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(attempts.get(2), 3);
  assert.equal(errors.length, 2);
  assert.ok(errors.every((e) => e.reason === "event-failed" && e.position === 2));
  const state = projection.state();
  assert.equal(state.retries, 0);
  assert.equal(state.skipped, 0);
  assert.equal(state.lastError?.position, 2);
  assert.match(String(state.lastError?.message), /position 2: No 2 today/);
  await projection.stop();
});

test("retry with a limit stops after the last retry, before the failing event", async () => {
  const log = new MemoryEventLog();
  const typeName = uniqueTypeName();
  const { projection, seen, attempts } = recorder(log, typeName, {
    failOn: (value) => value === 3,
    errorStrategy: { type: "retry", initialDelayMs: 1, maxRetries: 2 },
  });
  await write(log, typeName, [1, 2, 3, 4]);
  await projection.run();
  const caughtUp = await projection.whenCaughtUp().catch((e) => e);
  assert.ok(isProjectionError(caughtUp) && caughtUp.reason === "stopped", String(caughtUp));
  const state = await projection.whenStopped();
  assert.equal(state.running, false);
  assert.equal(state.offset, 2);
  assert.equal(attempts.get(3), 3);
  assert.deepEqual(seen, [1, 2]);
  assert.equal(state.lastError?.reason, "event-failed");
  assert.equal(state.lastError?.position, 3);
});

test("retry with a limit can skip the event once retries are exhausted", async () => {
  const log = new MemoryEventLog();
  const typeName = uniqueTypeName();
  const { projection, seen } = recorder(log, typeName, {
    failOn: (value) => value === 3,
    errorStrategy: { type: "retry", initialDelayMs: 1, maxRetries: 1, exhausted: "skip" },
  });
  await write(log, typeName, [1, 2, 3, 4]);
  await projection.run();
  await projection.whenCaughtUp();
  assert.deepEqual(seen, [1, 2, 4]);
  assert.equal(projection.state().skipped, 1);
  await projection.stop();
});

test("skip: events whose handler fails are reported, counted and passed over", async () => {
  const log = new MemoryEventLog();
  const typeName = uniqueTypeName();
  const { projection, seen, errors } = recorder(log, typeName, {
    failOn: (value) => value % 3 === 0,
    errorStrategy: { type: "skip" },
  });
  await write(log, typeName, [1, 2, 3, 4, 5, 6, 7]);
  await projection.run();
  await projection.whenCaughtUp();
  assert.deepEqual(seen, [1, 2, 4, 5, 7]);
  const state = projection.state();
  assert.equal(state.skipped, 2);
  assert.equal(state.offset, 7);
  assert.equal(state.running, true);
  assert.deepEqual(errors.map((e) => e.position), [3, 6]);
  await projection.stop();
});

test("skip passes over an event that cannot be decoded, with the DecodeError as cause", async () => {
  const log = new MemoryEventLog();
  const typeName = uniqueTypeName();
  const { projection, seen, errors } = recorder(log, typeName, { errorStrategy: { type: "skip" } });
  await write(log, typeName, [1]);
  await log.persist(typeName, "bad", null, [new Uint8Array([0xff, 0xfe])]);
  await write(log, typeName, [3], "e9");
  await projection.run();
  await projection.whenCaughtUp();
  assert.deepEqual(seen, [1, 3]);
  assert.equal(errors.length, 1);
  assert.ok(isDecodeError(errors[0]!.cause));
  assert.equal(projection.state().skipped, 1);
  await projection.stop();
});

test("stop: the first failing event stops the projection; a new run resumes at that event", async () => {
  const log = new MemoryEventLog();
  const typeName = uniqueTypeName();
  const store = new MemoryOffsetStore();
  let broken = true;
  const seen: number[] = [];
  const make = () =>
    new Projection("stopper", {
      typeName,
      eventLog: log,
      binarize,
      offsetStore: store,
      errorStrategy: { type: "stop" },
      onError: () => {},
      handleEvent: ({ event }) => {
        if (broken && event === 3) throw new Error("broken");
        seen.push(event);
      },
    });
  const projection = make();
  await write(log, typeName, [1, 2, 3, 4]);
  await projection.run();
  const state = await within(projection.whenStopped(), 2_000, "whenStopped");
  assert.equal(state.running, false);
  assert.equal(state.offset, 2);
  assert.equal(state.lastError?.position, 3);
  assert.equal((state.lastError?.cause as Error).message, "broken");
  assert.equal(await store.load("stopper"), 2);

  broken = false;
  await projection.run();
  await projection.whenCaughtUp();
  assert.deepEqual(seen, [1, 2, 3, 4]);
  await projection.stop();
});

test("batches: handleBatch gets several events per commit, and a failing batch is split", async () => {
  const log = new MemoryEventLog();
  const typeName = uniqueTypeName();
  await write(log, typeName, Array.from({ length: 100 }, (_, i) => i + 1));
  const batches: number[][] = [];
  let commits = 0;
  const store = new MemoryOffsetStore();
  const counting: MemoryOffsetStore = Object.assign(Object.create(store), {
    acquire: async (name: string, options: object) => {
      const lease = await store.acquire(name, options);
      return {
        ...lease,
        commit: async (...args: Parameters<typeof lease.commit>) => {
          await lease.commit(...args);
          commits++;
        },
      };
    },
  });
  const projection = new Projection("batches", {
    typeName,
    eventLog: log,
    binarize,
    offsetStore: counting,
    batchSize: 32,
    errorStrategy: { type: "skip" },
    onError: () => {},
    handleBatch: (envelopes) => {
      const values = envelopes.map((e) => e.event);
      if (values.includes(50)) throw new Error("no 50");
      batches.push(values);
    },
  });
  await projection.run();
  await projection.whenCaughtUp();
  const flat = batches.flat();
  assert.deepEqual(flat, Array.from({ length: 100 }, (_, i) => i + 1).filter((v) => v !== 50));
  assert.ok(batches.some((b) => b.length > 1), "some batch has several events");
  assert.ok(batches.every((b) => b.length <= 32));
  // 99 events in far fewer commits than events, though the batch holding 50 went one by one.
  assert.ok(commits < 99, `${commits} commits`);
  assert.equal(projection.state().skipped, 1);
  await projection.stop();
});

test("batchMs: a partial batch of live events is committed without waiting for more", async () => {
  const log = new MemoryEventLog();
  const typeName = uniqueTypeName();
  const seen: number[] = [];
  const projection = new Projection("timed", {
    typeName,
    eventLog: log,
    binarize,
    offsetStore: new MemoryOffsetStore(),
    batchSize: 1000,
    batchMs: 10,
    handleBatch: (envelopes) => void seen.push(...envelopes.map((e) => e.event)),
  });
  await projection.run();
  await write(log, typeName, [1, 2, 3]);
  await within(projection.whenCaughtUp(), 5_000, "whenCaughtUp");
  assert.deepEqual(seen, [1, 2, 3]);
  await projection.stop();
});

test("reset rewinds a stopped projection so its read model can be rebuilt", async () => {
  const log = new MemoryEventLog();
  const typeName = uniqueTypeName();
  const store = new MemoryOffsetStore();
  const { projection, seen } = recorder(log, typeName, { store });
  await write(log, typeName, [1, 2, 3, 4]);
  await projection.run();
  await projection.whenCaughtUp();

  const running = await projection.reset().catch((e) => e);
  assert.ok(isProjectionError(running) && running.reason === "running");

  await projection.stop();
  let cleared = false;
  await projection.reset(2, {
    clear: () => {
      cleared = true;
      return Promise.resolve();
    },
  });
  assert.ok(cleared);
  assert.equal(await store.load("recorder"), 2);
  assert.equal(projection.state().offset, 2);
  await projection.run();
  await projection.whenCaughtUp();
  assert.deepEqual(seen, [1, 2, 3, 4, 3, 4]);
  await projection.stop();
});

test("reset fails while another runner holds the name", async () => {
  const log = new MemoryEventLog();
  const typeName = uniqueTypeName();
  const store = new MemoryOffsetStore();
  const holder = recorder(log, typeName, { store, name: "held" });
  await holder.projection.run();
  const other = recorder(log, typeName, { store, name: "held" });
  const error = await other.projection.reset().catch((e) => e);
  assert.ok(isProjectionError(error) && error.reason === "locked");
  await holder.projection.stop();
});

test("whenCaughtUp rejects when the projection is not running", async () => {
  const { projection } = recorder(new MemoryEventLog(), uniqueTypeName());
  const error = await projection.whenCaughtUp().catch((e) => e);
  assert.ok(isProjectionError(error) && error.reason === "not-running");
  assert.deepEqual(projection.state(), {
    name: "recorder",
    running: false,
    offset: null,
    lastError: null,
    skipped: 0,
    retries: 0,
  });
});

test("Projection rejects bad names and options before running", () => {
  const base = {
    typeName: "t",
    eventLog: new MemoryEventLog(),
    binarize,
    offsetStore: new MemoryOffsetStore(),
    handleEvent: () => {},
  };
  assert.throws(() => new Projection("a b", base), /Invalid projection name "a b"/);
  assert.throws(() => new Projection("p", { ...base, typeName: "no/pe" }), TypeError);
  assert.throws(
    () => new Projection("p", { ...base, handleBatch: () => {} }),
    /exactly one of handleEvent and handleBatch/,
  );
  assert.throws(() => new Projection("p", { ...base, batchSize: 0 }), RangeError);
  assert.throws(
    () => new Projection("p", { ...base, errorStrategy: { type: "later" } as never }),
    /Invalid errorStrategy option type "later": expected one of "retry", "skip", "stop"/,
  );
  assert.throws(
    () => new Projection("p", { ...base, offsetStore: {} as MemoryOffsetStore }),
    /Invalid Projection option offsetStore \(Object\): expected an OffsetStore/,
  );
});

test("a failed read of the event log is reported and retried from the stored offset", async () => {
  const log = new MemoryEventLog();
  const typeName = uniqueTypeName();
  await write(log, typeName, [1, 2, 3, 4]);
  let reads = 0;
  // The first live read breaks after two events.
  const flaky: MemoryEventLog = Object.assign(Object.create(log), {
    eventsByType: (name: string, from: number, options: object) => {
      const stream = log.eventsByType(name, from, options);
      if (++reads > 1) return stream;
      let passed = 0;
      return stream.pipeThrough(
        new TransformStream({
          transform(event, controller) {
            if (passed++ === 2) controller.error(new Error("connection reset"));
            else controller.enqueue(event);
          },
        }),
      );
    },
  });
  const { projection, seen, errors } = recorder(flaky, typeName, {
    errorStrategy: { type: "retry", initialDelayMs: 1 },
  });
  await projection.run();
  await within(projection.whenCaughtUp(), 5_000, "whenCaughtUp");
  assert.deepEqual(seen, [1, 2, 3, 4]);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.reason, "read-failed");
  assert.match(errors[0]!.message, /from position 1: connection reset/);
  await projection.stop();
});

test("with the stop strategy, a failed read stops the projection", async () => {
  const log = new MemoryEventLog();
  const typeName = uniqueTypeName();
  await write(log, typeName, [1]);
  const broken: MemoryEventLog = Object.assign(Object.create(log), {
    eventsByType: () => new ReadableStream({ pull: (c) => c.error(new Error("no such stream")) }),
  });
  const { projection, errors } = recorder(broken, typeName, { errorStrategy: { type: "stop" } });
  await projection.run();
  const state = await within(projection.whenStopped(), 2_000, "whenStopped");
  assert.equal(state.running, false);
  assert.equal(state.lastError?.reason, "read-failed");
  assert.equal(errors.length, 1);
});

test("stop aborts the handler's signal; the interrupted event stays uncommitted", async () => {
  const log = new MemoryEventLog();
  const typeName = uniqueTypeName();
  const store = new MemoryOffsetStore();
  const errors: ProjectionError[] = [];
  let entered!: () => void;
  const inHandler = new Promise<void>((resolve) => (entered = resolve));
  const projection = new Projection("interrupted", {
    typeName,
    eventLog: log,
    binarize,
    offsetStore: store,
    onError: (error) => errors.push(error),
    handleEvent: async ({ event }, { signal }) => {
      if (event !== 2) return;
      entered();
      await new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason))
      );
    },
  });
  await write(log, typeName, [1, 2, 3]);
  await projection.run();
  await inHandler;
  const state = await within(projection.stop(), 2_000, "stop");
  assert.equal(state.running, false);
  assert.equal(state.offset, 1);
  assert.equal(await store.load("interrupted"), 1);
  assert.deepEqual(errors, []);
});

test("a skip whose offset commit fails is retried alone, without handling the event again", async () => {
  const log = new MemoryEventLog();
  const typeName = uniqueTypeName();
  await write(log, typeName, [1, 2, 3]);
  const inner = new MemoryOffsetStore();
  let commitsTo2 = 0;
  // The second commit of position 2 (the first without the handler's work: the skip) fails.
  const store: MemoryOffsetStore = Object.assign(Object.create(inner), {
    acquire: async (name: string, options: object) => {
      const lease = await inner.acquire(name, options);
      return {
        ...lease,
        name: lease.name,
        load: lease.load,
        release: lease.release,
        commit: (change: { from: number; to: number }, work: () => Promise<void>) => {
          if (change.to === 2 && ++commitsTo2 === 2) {
            return Promise.reject(new Error("disk full"));
          }
          return lease.commit(change, work);
        },
      };
    },
  });
  const { projection, seen, errors, attempts } = recorder(log, typeName, {
    store,
    errorStrategy: { type: "skip" },
    failOn: (value) => value === 2,
  });
  await projection.run();
  const state = await within(projection.whenCaughtUp(), 5_000, "whenCaughtUp");
  assert.deepEqual(seen, [1, 3]);
  assert.equal(attempts.get(2), 1, "the handler of the skipped event ran once");
  assert.deepEqual(errors.map((e) => e.reason), ["event-failed", "store-failed"]);
  assert.match(errors[1]!.message, /cannot store offset 2 to skip an event: disk full/);
  assert.equal(state.skipped, 1);
  assert.equal(commitsTo2, 3);
  await projection.stop();
});

test("run, whenCaughtUp and reset refuse unknown and bad options", async () => {
  const log = new MemoryEventLog();
  const { projection } = recorder(log, uniqueTypeName());
  await assert.rejects(
    projection.run({ sginal: AbortSignal.timeout(1_000) } as never),
    /Unknown Projection.run option "sginal": known options are signal/,
  );
  assert.equal(projection.state().running, false);
  await assert.rejects(projection.reset(-1), /Invalid position -1: expected an integer ≥ 0/);
  await assert.rejects(
    projection.reset(0, { clear: "everything" } as never),
    /Invalid Projection.reset option clear "everything": expected a function/,
  );
  await projection.run();
  await assert.rejects(
    projection.whenCaughtUp({ signal: 5 } as never),
    /Invalid Projection.whenCaughtUp option signal 5: expected an AbortSignal/,
  );
  await projection.stop();
});

test("the memory store refuses a unit of work whose signal has aborted, storing nothing", async () => {
  const store = new MemoryOffsetStore();
  const lease = await store.acquire("refused");
  let ran = false;
  const stop = new AbortController();
  stop.abort(new Error("stopping"));
  await assert.rejects(
    lease.commit({ from: 0, to: 1 }, () => Promise.resolve(void (ran = true)), {
      signal: stop.signal,
    }),
    /stopping/,
  );
  assert.equal(ran, false);
  assert.equal(await lease.load(), 0);
  await lease.release();
});

test("the memory store reads its call options like the rest of the API", async () => {
  const store = new MemoryOffsetStore();
  await assert.rejects(
    store.acquire("options", { wiat: true } as never),
    /Unknown MemoryOffsetStore.acquire option "wiat": known options are wait, signal/,
  );
  await assert.rejects(
    store.load("options", { signal: "soon" } as never),
    /Invalid MemoryOffsetStore.load option signal "soon": expected an AbortSignal/,
  );
  const lease = await store.acquire("options");
  await assert.rejects(lease.load({ signal: AbortSignal.abort(new Error("gone")) }), /gone/);
  await lease.release();
});
