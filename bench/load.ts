// The load generator for every backend: counter entities (increase / decrease, with overflow and
// underflow rejections, JSON events) driven through the entity runtime, next to the raw-driver
// baseline measured in the same run on the same server.
//
//   deno run -A bench/load.ts --backend memory|pglite|postgres|nats \
//     --entities 64 --commands 500 --sequential 2000 --long 20000 --runs 3 --slices 4 [--metadata]
//   bun run bench/load.ts --backend postgres ...
//
// Each run measures:
//   sequential  one entity, --sequential commands one after the other (commands/s, p50/p99)
//               vs. raw sequential single-row INSERT commits
//   concurrent  --entities entities × --commands commands, all entities at once
//               vs. raw --entities writers batching rows into multi-row INSERTs
//   replay      every entity of the concurrent phase respawned from the log (events/s)
//               vs. raw read of as many rows (when the backend has one)
//   snapshot    spawn from a snapshot at the head of a short (100) and a long (--long) log
// With --metadata every command carries a commandId and a correlationId, which every event it
// writes stores, and the raw baselines write the same values beside each row or message.
// The summary shows the median over --runs runs and the ratios to the baselines. Rates count
// commands; the ratios compare events written (rejected commands write nothing) with rows
// written by the raw driver.

import {
  type Command,
  emitAndReply,
  type EntityRef,
  type EventSourced,
  jsonBinarize,
  reject,
  spawn,
} from "../mod.ts";
import type { BenchBackend, OpenedBackend } from "./_backend.ts";
import { intFlag, parseArgs } from "./_args.ts";
import { median, quantile, rate, runtimeName } from "./_stats.ts";

type Event = { type: "increased"; by: number } | { type: "decreased"; by: number };
type Rejection = "Overflow" | "Underflow";
const MAX = 100;

function counter(typeName: string): EventSourced<number, Event> {
  return {
    typeName,
    initialState: 0,
    handleEvent: (state, event) => event.type === "increased" ? state + event.by : state - event.by,
  };
}

const increase = (by: number): Command<number, Event, number, Rejection> => ({
  handleCommand: (_id, state) =>
    state + by > MAX ? reject("Overflow") : emitAndReply({ type: "increased", by }, (s) => s),
});
const decrease = (by: number): Command<number, Event, number, Rejection> => ({
  handleCommand: (_id, state) =>
    state - by < 0 ? reject("Underflow") : emitAndReply({ type: "decreased", by }, (s) => s),
});

// A small deterministic generator, so every run and backend sees the same command mix.
function commands(seed: number): () => Command<number, Event, number, Rejection> {
  let x = (seed * 2654435761) >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const by = 1 + (x % 10);
    return (x >>> 8) % 5 < 3 ? increase(by) : decrease(by);
  };
}

const binarize = jsonBinarize<Event, number>();
const seconds = (start: number) => (performance.now() - start) / 1000;

interface Phase {
  commands: number;
  events: number;
  seconds: number;
  latencies: number[];
}

async function drive(
  refs: readonly EntityRef<number, Event>[],
  perEntity: number,
  slice: number,
  withMetadata: boolean,
): Promise<Phase> {
  const latencies: number[] = [];
  let events = 0;
  const start = performance.now();
  const run = crypto.randomUUID();
  await Promise.all(refs.map(async (ref, e) => {
    const next = commands(1 + e + 7919 * slice);
    const correlationId = `${run}-${e}`;
    for (let i = 0; i < perEntity; i++) {
      const t = performance.now();
      const result = withMetadata
        ? await ref.handleCommand(next(), {
          metadata: { commandId: `${correlationId}-${slice}-${i}`, correlationId },
        })
        : await ref.handleCommand(next());
      latencies.push(performance.now() - t);
      if (result.ok) events++;
    }
  }));
  return { commands: refs.length * perEntity, events, seconds: seconds(start), latencies };
}

async function spawnAll(
  entity: EventSourced<number, Event>,
  ids: readonly string[],
  backend: OpenedBackend,
  withSnapshots: boolean,
): Promise<EntityRef<number, Event>[]> {
  const options = withSnapshots
    ? { eventLog: backend.eventLog, snapshotStore: backend.snapshotStore, binarize }
    : { eventLog: backend.eventLog, binarize };
  return await Promise.all(ids.map((id) => spawn(entity, id, options)));
}

interface RunResult {
  sequential: number;
  sequentialEvents: number;
  sequentialP50: number;
  sequentialP99: number;
  rawSequential: number;
  concurrent: number;
  concurrentEvents: number;
  concurrentP50: number;
  concurrentP99: number;
  rawConcurrent: number;
  replay: number;
  rawRead: number | undefined;
  spawnShort: number;
  spawnLong: number;
  replayLong: number;
}

// Writes `length` events to one entity and a snapshot at its head; returns the median time to
// spawn it from the snapshot and the replay rate of spawning it from the log alone.
async function spawnFromSnapshot(
  backend: OpenedBackend,
  typeName: string,
  length: number,
  times: number,
): Promise<{ fromSnapshot: number; replay: number }> {
  const entity = counter(typeName);
  const encoded = binarize.eventToBytes({ type: "increased", by: 1 });
  let last: number | null = null;
  for (let written = 0; written < length;) {
    const chunk = Math.min(1000, length - written);
    last = await backend.eventLog.persist(typeName, "s", last, Array(chunk).fill(encoded));
    written += chunk;
  }
  await backend.snapshotStore.save(typeName, "s", length, binarize.stateToBytes(length));
  const durations: number[] = [];
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    const ref = await spawn(entity, "s", {
      eventLog: backend.eventLog,
      snapshotStore: backend.snapshotStore,
      binarize,
    });
    durations.push(performance.now() - start);
    await ref.stop();
  }
  const replays: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    const ref = await spawn(entity, "s", { eventLog: backend.eventLog, binarize });
    replays.push(length / seconds(start));
    await ref.stop();
  }
  return { fromSnapshot: median(durations), replay: median(replays) };
}

// The machine may be shared and its load may drift during a run, so each comparison is made in
// `slices` alternating slices (raw, ours, raw, ours …) and the rates come from the summed times.
async function run(
  backend: OpenedBackend,
  index: number,
  config: {
    entities: number;
    commands: number;
    sequential: number;
    long: number;
    slices: number;
    metadata: boolean;
  },
): Promise<RunResult> {
  const tag = `${Date.now().toString(36)}-${index}`;
  const { slices } = config;

  const single = counter(`counter-seq-${tag}`);
  const [one] = await spawnAll(single, ["one"], backend, false);
  const seqSlice = Math.ceil(config.sequential / slices);
  let rawSeqSeconds = 0;
  const seq: Phase = { commands: 0, events: 0, seconds: 0, latencies: [] };
  for (let i = 0; i < slices; i++) {
    rawSeqSeconds += seqSlice / await backend.baseline.sequential(seqSlice);
    add(seq, await drive([one!], seqSlice, i, config.metadata));
  }
  await one!.stop();

  const many = counter(`counter-${tag}`);
  const ids = Array.from({ length: config.entities }, (_, i) => `c${i}`);
  const refs = await spawnAll(many, ids, backend, false);
  const concSlice = Math.ceil(config.commands / slices);
  let rawConcSeconds = 0;
  const conc: Phase = { commands: 0, events: 0, seconds: 0, latencies: [] };
  for (let i = 0; i < slices; i++) {
    rawConcSeconds += (config.entities * concSlice) /
      await backend.baseline.concurrent(config.entities, concSlice);
    add(conc, await drive(refs, concSlice, i, config.metadata));
  }
  await Promise.all(refs.map((ref) => ref.stop()));

  const rawRead = backend.baseline.read ? await backend.baseline.read(conc.events) : undefined;
  const replayStart = performance.now();
  const again = await spawnAll(many, ids, backend, false);
  const replaySeconds = seconds(replayStart);
  await Promise.all(again.map((ref) => ref.stop()));

  const short = await spawnFromSnapshot(backend, `snap-short-${tag}`, 100, 15);
  const long = await spawnFromSnapshot(backend, `snap-long-${tag}`, config.long, 15);

  return {
    sequential: seq.commands / seq.seconds,
    sequentialEvents: seq.events / seq.seconds,
    sequentialP50: quantile(seq.latencies, 0.5),
    sequentialP99: quantile(seq.latencies, 0.99),
    rawSequential: (seqSlice * slices) / rawSeqSeconds,
    concurrent: conc.commands / conc.seconds,
    concurrentEvents: conc.events / conc.seconds,
    concurrentP50: quantile(conc.latencies, 0.5),
    concurrentP99: quantile(conc.latencies, 0.99),
    rawConcurrent: (config.entities * concSlice * slices) / rawConcSeconds,
    replay: conc.events / replaySeconds,
    rawRead,
    spawnShort: short.fromSnapshot,
    spawnLong: long.fromSnapshot,
    replayLong: long.replay,
  };
}

function add(total: Phase, slice: Phase): void {
  total.commands += slice.commands;
  total.events += slice.events;
  total.seconds += slice.seconds;
  for (const latency of slice.latencies) total.latencies.push(latency);
}

async function loadBackend(name: string): Promise<BenchBackend> {
  if (!/^[a-z0-9_-]+$/.test(name)) throw new Error(`Invalid --backend ${JSON.stringify(name)}`);
  // Compiled to JavaScript (dist/npm), the backends are .js files too.
  const extension = import.meta.url.endsWith(".js") ? "js" : "ts";
  const module = await import(new URL(`./backends/${name}.${extension}`, import.meta.url).href);
  return module.default as BenchBackend;
}

const ms = (value: number) => `${value.toFixed(2)} ms`;

async function main(): Promise<void> {
  const flags = parseArgs();
  const name = flags.get("backend") ?? "memory";
  const config = {
    entities: intFlag(flags, "entities", 64),
    commands: intFlag(flags, "commands", 500),
    sequential: intFlag(flags, "sequential", 2000),
    long: intFlag(flags, "long", 20_000),
    slices: intFlag(flags, "slices", 4),
    metadata: flags.has("metadata"),
  };
  const runs = intFlag(flags, "runs", 3);
  const backend = await loadBackend(name);
  console.log(
    `bench/load.ts on ${runtimeName()}, backend ${backend.name}: ${config.entities} entities × ${config.commands} commands, sequential ${config.sequential}, long log ${config.long}, ${runs} runs${
      config.metadata ? ", metadata on every command" : ""
    }`,
  );
  const opened = await backend.open({ metadata: config.metadata });
  const results: RunResult[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const r = await run(opened, i, config);
      results.push(r);
      console.log(
        `run ${i + 1}: sequential ${rate(r.sequential)} cmd/s (raw ${rate(r.rawSequential)}/s), ` +
          `concurrent ${rate(r.concurrent)} cmd/s (raw ${rate(r.rawConcurrent)}/s), ` +
          `replay ${rate(r.replay)} events/s${r.rawRead ? ` (raw ${rate(r.rawRead)}/s)` : ""}, ` +
          `one long log ${rate(r.replayLong)} events/s, ` +
          `spawn from snapshot ${ms(r.spawnShort)} / ${ms(r.spawnLong)}`,
      );
    }
  } finally {
    await opened.close();
  }
  const m = (pick: (r: RunResult) => number) => median(results.map(pick));
  const rawRead = results.every((r) => r.rawRead !== undefined) ? m((r) => r.rawRead!) : undefined;
  const rows: [string, string, string][] = [
    [
      "one entity, sequential",
      `${rate(m((r) => r.sequential))} cmd/s (${
        rate(m((r) => r.sequentialEvents))
      } events/s), p50 ${ms(m((r) => r.sequentialP50))}, p99 ${ms(m((r) => r.sequentialP99))}`,
      `raw ${rate(m((r) => r.rawSequential))} INSERT commits/s → ${
        (m((r) => r.sequentialEvents / r.rawSequential)).toFixed(2)
      }× (target ≥ 0.8×)`,
    ],
    [
      `${config.entities} entities, concurrent`,
      `${rate(m((r) => r.concurrent))} cmd/s (${
        rate(m((r) => r.concurrentEvents))
      } events/s), p50 ${ms(m((r) => r.concurrentP50))}, p99 ${ms(m((r) => r.concurrentP99))}`,
      `raw ${rate(m((r) => r.rawConcurrent))} rows/s batched → ${
        (m((r) => r.concurrentEvents / r.rawConcurrent)).toFixed(2)
      }× (target ≥ 0.6×)`,
    ],
    [
      "replay (respawn all)",
      `${rate(m((r) => r.replay))} events/s`,
      rawRead === undefined
        ? "target ≥ 300,000 events/s"
        : `raw read ${rate(rawRead)} rows/s → ${(m((r) => r.replay / r.rawRead!)).toFixed(2)}×` +
          " (target ≥ 300,000 events/s)",
    ],
    [
      "replay (one long log)",
      `${rate(m((r) => r.replayLong))} events/s (${config.long} events, one entity)`,
      "target ≥ 300,000 events/s",
    ],
    [
      "spawn from snapshot",
      `${ms(m((r) => r.spawnShort))} (100 events) / ${
        ms(m((r) => r.spawnLong))
      } (${config.long} events)`,
      "target: the same whatever the log length",
    ],
  ];
  console.log(`\nmedian of ${runs} runs (${backend.name}, ${runtimeName()}):`);
  for (const [what, ours, baseline] of rows) {
    console.log(`  ${what.padEnd(24)} ${ours}\n  ${"".padEnd(24)} ${baseline}`);
  }
}

await main();
