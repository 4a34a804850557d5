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
// Two workloads on one entity, sequential awaited commands: `emit` (one event persisted to a
// MemoryEventLog, the core bench's sequential row) and `reply` (no I/O: the per-command
// overhead at its starkest). The variants take turns within each run; each figure is the
// median of --runs runs, and the ratio is against no instrumentation in the same run.

import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import {
  type Command,
  emitAndReply,
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
const COMMANDS = 200_000;

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

async function commandRate(
  command: Command<number, Event, number, never>,
  instrumentation: Instrumentation | undefined,
  count: number,
): Promise<number> {
  const ref = await spawn(counter, "one", {
    eventLog: new MemoryEventLog(),
    binarize,
    instrumentation,
  });
  const start = performance.now();
  for (let i = 0; i < count; i++) await ref.handleCommand(command);
  const seconds = (performance.now() - start) / 1000;
  await ref.stop();
  return count / seconds;
}

const workloads: [string, Command<number, Event, number, never>][] = [
  ["emit", emitOne],
  ["reply", replyState],
];
const samples = new Map<string, number[]>();
const ratios = new Map<string, number[]>();
for (const [workload, command] of workloads) {
  for (const [name, instrumentation] of variants) {
    await commandRate(command, instrumentation, COMMANDS / 10); // warm-up
    samples.set(`${workload}/${name}`, []);
    ratios.set(`${workload}/${name}`, []);
  }
}
for (let run = 0; run < RUNS; run++) {
  for (const [workload, command] of workloads) {
    const rates = new Map<string, number>();
    // Each variant goes first in turn, so none always runs in the same place.
    for (let i = 0; i < variants.length; i++) {
      const [name, instrumentation] = variants[(run + i) % variants.length]!;
      rates.set(name, await commandRate(command, instrumentation, COMMANDS));
    }
    for (const [name] of variants) {
      samples.get(`${workload}/${name}`)!.push(rates.get(name)!);
      ratios.get(`${workload}/${name}`)!.push(rates.get(name)! / rates.get("none")!);
    }
  }
}
await tracerProvider.forceFlush();

console.log(
  `${runtimeName()}, ${COMMANDS.toLocaleString("en-US")} commands, median of ${RUNS} runs`,
);
console.log("| workload | instrumentation | commands/s | ratio to none |");
console.log("| -------- | --------------- | ---------: | ------------: |");
for (const [workload] of workloads) {
  for (const [name] of variants) {
    const key = `${workload}/${name}`;
    console.log(
      `| ${workload} | ${name} | ${rate(median(samples.get(key)!))} | ${
        median(ratios.get(key)!).toFixed(2)
      } |`,
    );
  }
}
console.log(`(spans handed to the exporter: ${exporter.exported.toLocaleString("en-US")})`);
await tracerProvider.shutdown();
await meterProvider.shutdown();
