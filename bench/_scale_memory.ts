// The memory scale ladder of bench/scale.ts (issue 15, "Memory"): what live entities cost in
// one process, in an EntityRegistry, beside a bare Map doing the same work in the same run.
//
//   flock /tmp/scale-bench.lock npx deno run -A --v8-flags=--expose-gc,--max-old-space-size=8192 \
//     bench/scale.ts --backend memory [--sizes 10k,100k,1M] [--ids 10M] [--passivate-after 100] \
//     [--samples 50000] [--window-entities 5000] [--parts live,window,log,caches,passivation]
//
// Five parts, each a table (or one per size):
// - live: N live entities (10k, 100k, 1M) in a registry. Heap per live entity after a full
//   collection, divided by N: idle after the spawn, then with one event each kept by the log,
//   then with a second event whose command carried a commandId (the deduplication window).
//   Command latency p50/p99 of awaited commands to random live ids, the rate with 64 in flight,
//   and the longest event-loop pause over an idle 1.2 s, which holds one passivation sweep over
//   the N entities. The baseline (_scale_memory_common.ts, BareMap): a Map<string, state>
//   doing the same work, look up, encode the event, store its bytes, apply it; sampled in
//   alternating rounds with the registry.
//   The registry's log here is RecentEntitiesLog (_scale_memory_log.ts) with room for every
//   live entity: it keeps each entity's events, so the heap figures with events include them.
// Heap figures are V8's heapUsed + external (array buffers) after full collections.
// - window: _scale_memory_window.ts, heap per live entity as its deduplication window fills.
// - log: what MemoryEventLog costs per event held (it keeps every event, so its memory grows
//   with history by design), beside the payload and a bare array of byte copies.
// - caches: _scale_memory_recent_map.ts, the adapters' bounded per-entity cache once full.
// - passivation: _scale_memory_passivation.ts, 10M distinct ids over time.

import { EntityRegistry, MemoryEventLog } from "../mod.ts";
import { intFlag } from "./_args.ts";
import { bytes, parseSize, printTable, rateOf, size } from "./_scale_report.ts";
import { quantile, rate, runtimeName } from "./_stats.ts";
import {
  add,
  type Added,
  BareMap,
  binarize,
  counter,
  heapUsed,
  loadAverage,
  longestPause,
  random,
} from "./_scale_memory_common.ts";
import { RecentEntitiesLog } from "./_scale_memory_log.ts";
import { passivationRun } from "./_scale_memory_passivation.ts";
import { windowCost } from "./_scale_memory_window.ts";
import { recentMapCost } from "./_scale_memory_recent_map.ts";

// Ticks of the registry's sweeper every second; ids used within 4 s stay live. The ladder yields
// to timers only while it watches for the sweep, so no live entity is passivated meanwhile.
const SWEEP_PASSIVATE_AFTER = 4_000;
const ROUNDS = 10;

const idOf = (i: number) => `e${i}`;

/** The ladder `bench/scale.ts --backend memory` runs. */
export const memoryLadder = {
  async run(flags: Map<string, string>): Promise<void> {
    const parts = (flags.get("parts") ?? "live,window,log,caches,passivation").split(",");
    const sizes = (flags.get("sizes") ?? "10k,100k,1M").split(",").map(parseSize);
    console.log(
      `memory ladder: parts ${parts.join(", ")}; sizes ${sizes.map(size).join(", ")}; ` +
        `heap limits from --v8-flags; uptime load ${loadAverage()}`,
    );
    await warmUp();
    if (parts.includes("live")) {
      for (const n of sizes) await liveStep(n, intFlag(flags, "samples", 50_000));
    }
    if (parts.includes("window")) await windowCost(intFlag(flags, "window-entities", 5_000));
    if (parts.includes("log")) await memoryLogCost(intFlag(flags, "log-events", 1_000_000));
    if (parts.includes("caches")) recentMapCost();
    if (parts.includes("passivation")) {
      await passivationRun({
        ids: parseSize(flags.get("ids") ?? "10M"),
        passivateAfter: intFlag(flags, "passivate-after", 100),
      });
    }
  },
};

// Both sides run the ladder's calls once on small numbers first, so the first size is not
// measured while the JIT still compiles them.
async function warmUp(): Promise<void> {
  const bare = new BareMap();
  const registry = new EntityRegistry(counter, {
    eventLog: new RecentEntitiesLog(20_000),
    binarize,
    passivateAfter: 0,
  });
  await rateOf(20_000, 64, async (i) => {
    await bare.spawn(idOf(i));
    await bare.command(idOf(i));
    await bare.command(idOf(i), `c-${i}`);
    await registry.get(idOf(i));
    await registry.handleCommand(idOf(i), add);
    await registry.handleCommand(idOf(i), add, { metadata: { commandId: `c-${i}` } });
  });
  await registry.close();
}

async function liveStep(n: number, samples: number): Promise<void> {
  const started = performance.now();
  const bare = new BareMap();
  const h0 = heapUsed();
  const bareSpawn = await rateOf(n, 64, (i) => bare.spawn(idOf(i)));
  const h1 = heapUsed();
  await rateOf(n, 64, (i) => bare.command(idOf(i)));
  const h2 = heapUsed();
  await rateOf(n, 64, (i) => bare.command(idOf(i), `c-${i}`));
  const h3 = heapUsed();

  const log = new RecentEntitiesLog(n);
  const registry = new EntityRegistry(counter, {
    eventLog: log,
    binarize,
    passivateAfter: SWEEP_PASSIVATE_AFTER,
  });
  const h4 = heapUsed();
  const spawnRate = await rateOf(n, 64, (i) => registry.get(idOf(i)));
  const h5 = heapUsed();
  await rateOf(n, 64, (i) => registry.handleCommand(idOf(i), add));
  const h6 = heapUsed();
  await rateOf(
    n,
    64,
    (i) => registry.handleCommand(idOf(i), add, { metadata: { commandId: `c-${i}` } }),
  );
  const h7 = heapUsed();
  if (registry.size !== n || log.kept !== n) {
    throw new Error(`expected ${n} live entities, found ${registry.size} (log: ${log.kept})`);
  }

  // Awaited commands to random live ids, the two sides taking turns round by round.
  const pick = random();
  const perRound = Math.max(1, Math.floor(samples / ROUNDS));
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await sample(theirs, perRound, () => bare.command(idOf(pick(n))));
    await sample(ours, perRound, () => registry.handleCommand(idOf(pick(n)), add));
  }
  const rateCount = Math.min(200_000, 4 * n);
  const bareRate = await rateOf(rateCount, 64, () => bare.command(idOf(pick(n))));
  const ourRate = await rateOf(rateCount, 64, () => registry.handleCommand(idOf(pick(n)), add));
  const ourPause = await longestPause(1_200);
  if (registry.size !== n) throw new Error(`the sweep passivated ${n - registry.size} entities`);
  await registry.close();
  const barePause = await longestPause(1_200);

  const per = (delta: number) => delta / n;
  const row = (name: string, value: number, base: number, kind: "bytes" | "us" | "rate" | "ms") => {
    const show = (v: number) =>
      kind === "bytes"
        ? String(Math.round(v))
        : kind === "us"
        ? (v * 1000).toFixed(1)
        : kind === "ms"
        ? v.toFixed(1)
        : rate(v);
    return [name, show(value), show(base), (value / base).toFixed(2)];
  };
  printTable(
    `Memory, ${size(n)} live entities (${runtimeName()}, ${new Date().toISOString()}, ` +
      `load ${loadAverage()}, ${((performance.now() - started) / 1000).toFixed(0)} s)`,
    ["measure", "EntityRegistry", "bare Map", "ratio"],
    [
      row("first use of a new id (spawn), per s, 64 in flight", spawnRate, bareSpawn, "rate"),
      row("heap per live entity, idle, bytes", per(h5 - h4), per(h1 - h0), "bytes"),
      row("... with its 1 event kept by the log", per(h6 - h4), per(h2 - h0), "bytes"),
      row("... and a 2nd event with a commandId", per(h7 - h4), per(h3 - h0), "bytes"),
      row("command p50 (random live id), µs", quantile(ours, 0.5), quantile(theirs, 0.5), "us"),
      row("command p99 (random live id), µs", quantile(ours, 0.99), quantile(theirs, 0.99), "us"),
      row("commands/s, 64 in flight, random ids", ourRate, bareRate, "rate"),
      row("longest event-loop pause in 1.2 s idle, ms", ourPause, barePause, "ms"),
    ],
  );
  console.log(
    `\nHeap in use with both sides live: ${bytes(h7)}. The registry's pause holds its sweep ` +
      `over ${size(n)} entities (every passivateAfter/4); the bare Map's is the timers' own.`,
  );
}

async function sample(into: number[], count: number, call: () => Promise<unknown>) {
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await call();
    into.push(performance.now() - start);
  }
}

// MemoryEventLog keeps every event: its bytes per event, so a user can plan (events x bytes).
// Each measurement is a function of its own, so nothing of one is alive in the next.
async function memoryLogCost(events: number): Promise<void> {
  const perEntity = 10;
  const entities = Math.max(1, Math.floor(events / perEntity));
  const total = entities * perEntity;
  const payload = binarize.eventToBytes({ type: "added", by: 1 }).length;
  const bare = bareCopies(total);
  const rows: string[][] = [];
  for (const withId of [false, true]) {
    const ours = await memoryLogBytes(entities, perEntity, withId);
    rows.push([
      withId ? "one event a persist, with a commandId" : "one event a persist, no metadata",
      String(payload),
      String(Math.round(ours)),
      String(Math.round(bare)),
      (ours / bare).toFixed(2),
    ]);
  }
  printTable(
    `MemoryEventLog, bytes per event held: ${size(total)} events over ${size(entities)} ` +
      `entities (${runtimeName()}, ${new Date().toISOString()}, load ${loadAverage()})`,
    ["events", "payload bytes", "MemoryEventLog", "bare array of byte copies", "ratio"],
    rows,
  );
}

function bareCopies(total: number): number {
  const h0 = heapUsed();
  const copies: Uint8Array[] = new Array(total);
  const bytesOf = binarize.eventToBytes({ type: "added", by: 1 });
  for (let i = 0; i < total; i++) copies[i] = bytesOf.slice();
  const perEvent = (heapUsed() - h0) / total;
  if (copies.length !== total) throw new Error("lost copies"); // alive during the measurement
  return perEvent;
}

async function memoryLogBytes(entities: number, perEntity: number, withId: boolean) {
  const h0 = heapUsed();
  const eventLog = new MemoryEventLog();
  for (let seq = 0; seq < perEntity; seq++) {
    for (let e = 0; e < entities; e++) {
      await eventLog.persist(
        counter.typeName,
        idOf(e),
        seq === 0 ? null : seq,
        [binarize.eventToBytes({ type: "added", by: 1 } satisfies Added)],
        withId ? { metadata: { commandId: `${idOf(e)}-${seq}` } } : undefined,
      );
    }
  }
  const perEvent = (heapUsed() - h0) / (entities * perEntity);
  // Read after the measurement, so the log is alive during it.
  if (await eventLog.lastSeqNo(counter.typeName, idOf(0)) !== perEntity) {
    throw new Error("the log lost events");
  }
  return perEvent;
}
