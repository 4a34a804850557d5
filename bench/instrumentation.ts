// The cost of instrumentation: the core's command rate in memory without instrumentation,
// with openTelemetry() and no SDK registered (no hooks then), with hooks whose observer does
// nothing (the core's own cost per instrumented command), and with the OpenTelemetry SDK
// recording every span and metric (a batch span processor and an exporter that drops what it
// gets, so the figure is the recording, not an export).
//
//   deno run -A bench/instrumentation.ts [--runs 7]
//   bun run bench/instrumentation.ts
//   node scripts/build_npm.mjs && node dist/npm/bench/instrumentation.js
//
// Three workloads on one entity, sequential awaited commands: `emit` (one event persisted to a
// MemoryEventLog, the core bench's sequential row), `reply` (no I/O: the per-command overhead
// at its starkest) and `emit, PGlite` (one event per command into an in-memory PGlite). The variants take turns within each run; each figure is the
// median of --runs runs, and the ratio is against no instrumentation in the same run.

import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { PGlite } from "@electric-sql/pglite";
import { PgliteEventLog } from "../adapters/pglite/mod.ts";
import {
  type Command,
  emitAndReply,
  type EventLog,
  type Instrumentation,
  jsonBinarize,
  MemoryEventLog,
  reply,
  spawn,
} from "../mod.ts";
import { openTelemetry } from "../opentelemetry/mod.ts";
import { median, rate, runtimeName } from "./_stats.ts";

type Event = { by: number };
const counter = {
  typeName: "counter",
  initialState: 0,
  handleEvent: (state: number, event: Event) => state + event.by,
};
const binarize = jsonBinarize<Event, number>();
const emitOne: Command<number, Event, number, never> = {
  handleCommand: () => emitAndReply<number, Event, number>({ by: 1 }, (s) => s),
};
const replyState: Command<number, Event, number, never> = {
  handleCommand: (_id, state) => reply(state),
};

const argv = (globalThis as unknown as { process?: { argv: string[] } }).process?.argv ?? [];
const runsIndex = argv.indexOf("--runs");
const RUNS = runsIndex >= 0 ? Number(argv[runsIndex + 1]) : 7;
const COMMANDS = 100_000;

/** Takes what the batch processor hands over and drops it. */
class DroppingExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], done: Parameters<SpanExporter["export"]>[1]): void {
    this.exported += spans.length;
    done({ code: 0 }); // ExportResultCode.SUCCESS, of @opentelemetry/core
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

class IdleReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const exporter = new DroppingExporter();
const tracerProvider = new TracerProvider({
  spanProcessors: [new BatchSpanProcessor({ exporter, maxQueueSize: 65_536 })],
});
const meterProvider = new MeterProvider({ readers: [new IdleReader()] });

// The hooks themselves: an observer per command that records nothing.
const emptyObserver: Instrumentation = {
  command: () => ({
    started() {},
    persisting: (_events, metadata) => metadata,
    persisted() {},
    ended() {},
  }),
};

const variants: [string, Instrumentation | undefined][] = [
  ["none", undefined],
  ["openTelemetry(), no SDK", openTelemetry()],
  ["hooks, empty observer", emptyObserver],
  ["openTelemetry(), SDK", openTelemetry({ tracerProvider, meterProvider })],
];

interface Workload {
  readonly name: string;
  readonly command: Command<number, Event, number, never>;
  readonly count: number;
  readonly eventLog: () => EventLog;
}

const pglite = await PGlite.create();
const pgliteLog = new PgliteEventLog(pglite);
await pgliteLog.setup();
const workloads: Workload[] = [
  { name: "emit", command: emitOne, count: COMMANDS, eventLog: () => new MemoryEventLog() },
  { name: "reply", command: replyState, count: COMMANDS, eventLog: () => new MemoryEventLog() },
  { name: "emit, PGlite", command: emitOne, count: COMMANDS / 40, eventLog: () => pgliteLog },
];

let entities = 0;
async function commandRate(
  { command, eventLog }: Workload,
  instrumentation: Instrumentation | undefined,
  count: number,
): Promise<number> {
  // A new entity each time, so no measurement replays the events of another.
  const ref = await spawn(counter, `e${++entities}`, {
    eventLog: eventLog(),
    binarize,
    instrumentation,
  });
  const start = performance.now();
  for (let i = 0; i < count; i++) await ref.handleCommand(command);
  const seconds = (performance.now() - start) / 1000;
  await ref.stop();
  return count / seconds;
}

const samples = new Map<string, number[]>();
const ratios = new Map<string, number[]>();
for (const workload of workloads) {
  for (const [name, instrumentation] of variants) {
    await commandRate(workload, instrumentation, workload.count / 10); // warm-up
    samples.set(`${workload.name}/${name}`, []);
    ratios.set(`${workload.name}/${name}`, []);
  }
}
for (let run = 0; run < RUNS; run++) {
  for (const workload of workloads) {
    const rates = new Map<string, number>();
    // Each variant goes first in turn, so none always runs in the same place.
    for (let i = 0; i < variants.length; i++) {
      const [name, instrumentation] = variants[(run + i) % variants.length]!;
      rates.set(name, await commandRate(workload, instrumentation, workload.count));
    }
    for (const [name] of variants) {
      samples.get(`${workload.name}/${name}`)!.push(rates.get(name)!);
      ratios.get(`${workload.name}/${name}`)!.push(rates.get(name)! / rates.get("none")!);
    }
  }
}
await tracerProvider.forceFlush();

console.log(`${runtimeName()}, median of ${RUNS} runs`);
console.log("| workload | commands | instrumentation | commands/s | ratio to none |");
console.log("| -------- | -------: | --------------- | ---------: | ------------: |");
for (const workload of workloads) {
  for (const [name] of variants) {
    const key = `${workload.name}/${name}`;
    const figures = [
      workload.name,
      rate(workload.count),
      name,
      rate(median(samples.get(key)!)),
      median(ratios.get(key)!).toFixed(2),
    ];
    console.log(`| ${figures.join(" | ")} |`);
  }
}
console.log(`(spans handed to the exporter: ${exporter.exported.toLocaleString("en-US")})`);
await tracerProvider.shutdown();
await meterProvider.shutdown();
await pgliteLog.close();
await pglite.close();
