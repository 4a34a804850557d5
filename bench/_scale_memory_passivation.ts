// The passivation part of the memory scale ladder (bench/_scale_memory.ts): a workload that
// touches `ids` distinct ids over time (10M by default), each with 1 to 3 commands carrying a
// commandId (id i gets 1 + i % 3), then never again, in an EntityRegistry with a short
// passivateAfter (100 ms by default). The heap after a full collection is sampled every tenth
// of the ids: it must stay flat, bounded by what is live, not by how many ids were ever touched.
//
// The log is RecentEntitiesLog (_scale_memory_log.ts) keeping the events of the 16,384
// entities written last (an id's commands all come within its slice of 4,096 ids); it forgets older ones whole. So the
// heap is the registry's (live entities, their deduplication windows, the maps of live and
// stopping ids, the sweeper) plus that bounded log. MemoryEventLog would keep all ~20M events.
// Commands run 64 at a time in slices of 4,096 ids; after each slice the workload yields to
// timers (a server's I/O would), which is when the registry's sweeper runs.
// The baseline: the same workload on a bare Map (BareMap) that forgets a slice of ids once it
// has been idle for passivateAfter ms, run after the registry in the same process.

import { EntityRegistry } from "../mod.ts";
import { bytes, printTable, size } from "./_scale_report.ts";
import { rate, runtimeName } from "./_stats.ts";
import {
  add,
  BareMap,
  binarize,
  counter,
  heapUsed,
  loadAverage,
  yieldToTimers,
} from "./_scale_memory_common.ts";
import { RecentEntitiesLog } from "./_scale_memory_log.ts";

const SLICE = 4_096;
const WORKERS = 64;
const LOG_KEEPS = 16_384;

interface Sample {
  ids: number;
  commands: number;
  live: number;
  kept: number;
  heap: number;
  rate: number;
}

/** Runs the workload on the registry, then on the bare Map, and prints the heap over time. */
export async function passivationRun(
  options: { ids: number; passivateAfter: number },
): Promise<void> {
  const { ids, passivateAfter } = options;
  const started = new Date().toISOString();
  const load = loadAverage();
  const every = Math.max(SLICE, Math.ceil(ids / 10 / SLICE) * SLICE);

  const ours = await registrySide(ids, every, passivateAfter);
  const afterAll = heapUsed();

  const bare = new BareMap();
  const slices: { from: number; to: number; at: number }[] = [];
  const theirs = await workload(ids, every, {
    command: (id, k) => bare.command(id, `k${k}`),
    afterSlice: (from, to) => {
      const now = performance.now();
      slices.push({ from, to, at: now });
      while (slices.length > 0 && now - slices[0]!.at > passivateAfter) {
        const old = slices.shift()!;
        for (let i = old.from; i < old.to; i++) bare.drop(`p${i}`);
      }
    },
    live: () => bare.states.size,
    kept: () => bare.events.size,
  });

  printTable(
    `Passivation, ${size(ids)} distinct ids over time, passivateAfter ${passivateAfter} ms ` +
      `(${runtimeName()}, ${started}, load ${load}; ${ours.seconds.toFixed(0)} s registry, ${
        theirs.seconds.toFixed(0)
      } s bare Map)`,
    [
      "ids touched",
      "commands",
      "live entities",
      "log keeps",
      "heap",
      "ids/s",
      "bare Map live",
      "bare Map heap",
      "bare ids/s",
    ],
    ours.samples.map((s, i) => {
      const b = theirs.samples[i]!;
      return [
        size(s.ids),
        size(s.commands),
        rate(s.live),
        rate(s.kept),
        bytes(s.heap),
        s.ids === 0 ? "–" : rate(s.rate),
        rate(b.live),
        bytes(b.heap),
        b.ids === 0 ? "–" : rate(b.rate),
      ];
    }),
  );
  console.log(
    `\nAfter the registry closed: ${bytes(ours.closedHeap)} with its log, ${bytes(afterAll)} ` +
      `without. Log keeps: entities whose events the log still holds (at most ` +
      `${rate(LOG_KEEPS)}; the bare Map's events go with its ids).`,
  );
}

// In a function of its own, so nothing of the registry's run outlives it.
async function registrySide(
  ids: number,
  every: number,
  passivateAfter: number,
): Promise<{ samples: Sample[]; seconds: number; closedHeap: number }> {
  const log = new RecentEntitiesLog(LOG_KEEPS);
  const registry = new EntityRegistry(counter, { eventLog: log, binarize, passivateAfter });
  const run = await workload(ids, every, {
    command: (id, k) => registry.handleCommand(id, add, { metadata: { commandId: `k${k}` } }),
    afterSlice: () => {},
    live: () => registry.size,
    kept: () => log.kept,
  });
  await registry.close();
  const closedHeap = heapUsed();
  if (log.kept === 0) throw new Error("the log kept nothing"); // alive during the measurement
  return { ...run, closedHeap };
}

interface Side {
  command(id: string, k: number): Promise<unknown>;
  afterSlice(from: number, to: number): void;
  live(): number;
  kept(): number;
}

async function workload(
  ids: number,
  every: number,
  side: Side,
): Promise<{ samples: Sample[]; seconds: number }> {
  let commands = 0;
  const samples: Sample[] = [];
  let mark = performance.now();
  let marked = 0;
  const record = (touched: number) => {
    const seconds = (performance.now() - mark) / 1000;
    const sample: Sample = {
      ids: touched,
      commands,
      live: side.live(),
      kept: side.kept(),
      heap: heapUsed(),
      rate: (touched - marked) / seconds,
    };
    samples.push(sample);
    mark = performance.now();
    marked = touched;
  };
  const start = performance.now();
  record(0);
  for (let from = 0; from < ids; from += SLICE) {
    const to = Math.min(ids, from + SLICE);
    let next = from;
    await Promise.all(Array.from({ length: WORKERS }, async () => {
      while (next < to) {
        const i = next++;
        const id = `p${i}`;
        const count = 1 + (i % 3);
        for (let k = 1; k <= count; k++) await side.command(id, k);
        commands += count;
      }
    }));
    side.afterSlice(from, to);
    await yieldToTimers();
    if (to % every === 0 || to === ids) record(to);
  }
  return { samples, seconds: (performance.now() - start) / 1000 };
}
