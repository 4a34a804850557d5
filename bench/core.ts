// The core's speed in memory, next to a bare-loop baseline measured in the same run.
//
//   deno run -A --v8-flags=--expose-gc bench/core.ts [--runs 5]
//   bun run bench/core.ts
//   npm run build && node --expose-gc dist/npm/bench/core.js
//
// Measures: one entity with sequential awaited commands; 1,000 entities with commands
// interleaved; replay of 100k JSON events from MemoryEventLog; the same replay with a
// versioned codec, of current events and of version-1 events through two upcasters; heap held
// per idle entity (100k entities). Each figure is the median of --runs runs (default 5).

import {
  emitAndReply,
  type EntityRef,
  jsonBinarize,
  MemoryEventLog,
  reject,
  spawn,
} from "../mod.ts";
import { median, rate, runtimeName } from "./_stats.ts";

type Event = { type: "increased"; by: number } | { type: "decreased"; by: number };
const counter = {
  typeName: "counter",
  initialState: 0,
  handleEvent: (state: number, event: Event) =>
    event.type === "increased" ? state + event.by : state - event.by,
};
const increase = {
  handleCommand: (_id: string, state: number) =>
    state >= Number.MAX_SAFE_INTEGER
      ? reject("Overflow")
      : emitAndReply<number, Event, number>({ type: "increased", by: 1 }, (s) => s),
};
const binarize = jsonBinarize<Event, number>();

// Version 1 of the events said { kind: "increase", by }, version 2 renamed kind to type, and
// version 3 (current) names what happened in the past tense: the v3 codec reads a v1 event
// through two upcasters, each building a new object.
type EventV1 = { kind: "increase" | "decrease"; by: number };
type EventV2 = { type: "increase" | "decrease"; by: number };
const versioned = jsonBinarize<Event, number>({
  version: 3,
  upcast: {
    1: ({ kind, by }: EventV1): EventV2 => ({ type: kind, by }),
    2: ({ type, by }: EventV2): Event => ({
      type: type === "increase" ? "increased" : "decreased",
      by,
    }),
  },
});

const argv = (globalThis as unknown as { process?: { argv: string[] } }).process?.argv ?? [];
const runsIndex = argv.indexOf("--runs");
const RUNS = runsIndex >= 0 ? Number(argv[runsIndex + 1]) : 5;

const SEQUENTIAL = 300_000;
const ENTITIES = 1_000;
const PER_ENTITY = 300;
const REPLAY = 100_000;
const IDLE = 100_000;

function gc(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) g.Bun.gc(true);
  else g.gc?.();
}

function heapUsed(): number {
  gc();
  return (globalThis as unknown as { process: { memoryUsage(): { heapUsed: number } } }).process
    .memoryUsage().heapUsed;
}

// The same work without the runtime: encode the event, store the bytes, apply the event.
function baselineWrites(count: number): number {
  const encoder = new TextEncoder();
  const stored = new Map<number, Uint8Array>();
  let state = 0;
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const event: Event = { type: "increased", by: 1 };
    stored.set(i, encoder.encode(JSON.stringify(event)));
    state = counter.handleEvent(state, event);
  }
  const seconds = (performance.now() - start) / 1000;
  if (state !== count) throw new Error("baseline miscounted");
  return count / seconds;
}

function baselineReplay(events: readonly Uint8Array[]): number {
  const decoder = new TextDecoder();
  let state = 0;
  const start = performance.now();
  for (const bytes of events) state = counter.handleEvent(state, JSON.parse(decoder.decode(bytes)));
  const seconds = (performance.now() - start) / 1000;
  if (state !== events.length) throw new Error("baseline miscounted");
  return events.length / seconds;
}

async function sequential(): Promise<number> {
  const ref = await spawn(counter, "one", { eventLog: new MemoryEventLog(), binarize });
  const start = performance.now();
  for (let i = 0; i < SEQUENTIAL; i++) await ref.handleCommand(increase);
  const seconds = (performance.now() - start) / 1000;
  await ref.stop();
  return SEQUENTIAL / seconds;
}

async function interleaved(): Promise<number> {
  const eventLog = new MemoryEventLog();
  const refs: EntityRef<number, Event>[] = [];
  for (let i = 0; i < ENTITIES; i++) {
    refs.push(await spawn(counter, `e${i}`, { eventLog, binarize }));
  }
  const start = performance.now();
  await Promise.all(refs.map(async (ref) => {
    for (let i = 0; i < PER_ENTITY; i++) await ref.handleCommand(increase);
  }));
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(refs.map((ref) => ref.stop()));
  return (ENTITIES * PER_ENTITY) / seconds;
}

async function replayLog(
  event: unknown = { type: "increased", by: 1 },
  version = 1,
): Promise<{ eventLog: MemoryEventLog; bytes: Uint8Array[] }> {
  const eventLog = new MemoryEventLog();
  const bytes: Uint8Array[] = [];
  for (let i = 0; i < REPLAY; i++) bytes.push(jsonBinarize().eventToBytes(event));
  for (let i = 0; i < REPLAY; i += 1000) {
    await eventLog.persist("counter", "replay", i === 0 ? null : i, bytes.slice(i, i + 1000), {
      version,
    });
  }
  return { eventLog, bytes };
}

async function replay(eventLog: MemoryEventLog, codec = binarize): Promise<number> {
  const start = performance.now();
  const ref = await spawn(counter, "replay", { eventLog, binarize: codec });
  const seconds = (performance.now() - start) / 1000;
  await ref.stop();
  return REPLAY / seconds;
}

async function idleHeap(): Promise<number> {
  const eventLog = new MemoryEventLog();
  const refs: EntityRef<number, Event>[] = new Array(IDLE);
  const before = heapUsed();
  for (let i = 0; i < IDLE; i++) {
    refs[i] = await spawn(counter, `idle-${i}`, { eventLog, binarize });
  }
  const after = heapUsed();
  const perEntity = (after - before) / IDLE;
  await Promise.all(refs.map((ref) => ref.stop()));
  return perEntity;
}

const rows: [string, string, string, string][] = [];
const { eventLog, bytes } = await replayLog();
const { eventLog: v3Log } = await replayLog({ type: "increased", by: 1 }, 3);
const { eventLog: v1Log } = await replayLog({ kind: "increase", by: 1 }, 1);
const samples = {
  seq: [] as number[],
  seqBase: [] as number[],
  inter: [] as number[],
  interBase: [] as number[],
  replay: [] as number[],
  replayBase: [] as number[],
  replayV3: [] as number[],
  replayUpcast: [] as number[],
};
for (let run = 0; run < RUNS; run++) {
  samples.seqBase.push(baselineWrites(SEQUENTIAL));
  samples.seq.push(await sequential());
  samples.interBase.push(baselineWrites(ENTITIES * PER_ENTITY));
  samples.inter.push(await interleaved());
  // The replays allocate an object per event: each starts after a collection, so a pause
  // left over from the one before does not land on it. The three compared with each other take
  // turns at going first, so none always runs in the same place of a run.
  gc();
  samples.replayBase.push(baselineReplay(bytes));
  const replays = [
    async () => samples.replay.push(await replay(eventLog)),
    async () => samples.replayV3.push(await replay(v3Log, versioned)),
    async () => samples.replayUpcast.push(await replay(v1Log, versioned)),
  ];
  for (let i = 0; i < replays.length; i++) {
    gc();
    await replays[(run + i) % replays.length]!();
  }
}
const row = (name: string, value: number[], base: number[]) =>
  rows.push([
    name,
    rate(median(value)),
    rate(median(base)),
    (median(value) / median(base)).toFixed(2),
  ]);
row("1 entity, sequential commands/s", samples.seq, samples.seqBase);
row("1,000 entities interleaved commands/s", samples.inter, samples.interBase);
row("replay 100k JSON events, events/s", samples.replay, samples.replayBase);
row(
  "replay 100k v3 events, v3 codec, events/s (baseline: the replay above)",
  samples.replayV3,
  samples.replay,
);
row(
  "replay 100k v1 events through 2 upcasters, events/s (baseline: v3 events, v3 codec)",
  samples.replayUpcast,
  samples.replayV3,
);
const heap = await idleHeap();

console.log(`eventsourced core bench on ${runtimeName()}, median of ${RUNS} runs`);
console.log("| measure | eventsourced | baseline (bare loop unless named) | ratio |");
console.log("|---|---:|---:|---:|");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
console.log(`| heap per idle entity (100k spawned), bytes | ${Math.round(heap)} | | |`);
