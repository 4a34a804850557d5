// openTelemetry() with the real SDK: command and spawn spans, their parents and attributes,
// the trace context written into event metadata, and the metrics of a known workload.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { context, metrics, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  EntityRegistry,
  type EventMetadata,
  isSpawnError,
  jsonBinarize,
  MemoryEventLog,
  MemorySnapshotStore,
  spawn,
} from "../mod.ts";
import { openTelemetry } from "../opentelemetry/mod.ts";
import { counter, type CounterEvent, get, increase } from "./_counter.ts";
import { WrappedEventLog } from "./_wrapped_log.ts";
import { millis, Sdk } from "./_otel_sdk.ts";
import {
  AlwaysOffSampler,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";

const binarize = jsonBinarize<CounterEvent, number>();
const sdks: Sdk[] = [];
function sdk(): Sdk {
  const made = new Sdk();
  sdks.push(made);
  return made;
}
after(async () => {
  for (const made of sdks) await made.shutdown();
});

async function storedMetadata(eventLog: MemoryEventLog, id: string): Promise<EventMetadata[]> {
  const stored: EventMetadata[] = [];
  for await (const event of eventLog.eventsById("counter", id, 1)) stored.push(event.metadata);
  return stored;
}

test("a command is a span with a child per phase, and its events carry its traceparent", async () => {
  const otel = sdk();
  const eventLog = new MemoryEventLog();
  const ref = await spawn(counter, "a", {
    eventLog,
    binarize,
    instrumentation: openTelemetry(otel.providers),
  });
  const metadata = { commandId: "c-1", headers: { user: "ada" } };
  assert.deepEqual(await ref.handleCommand(increase(5), { metadata }), { ok: true, value: 5 });
  await ref.stop();

  const command = otel.one("counter command");
  assert.equal(command.parentSpanContext, undefined, "a root span: no parent was active");
  assert.deepEqual(command.attributes, {
    "eventsourced.entity.type": "counter",
    "eventsourced.entity.id": "a",
    "eventsourced.command.outcome": "emit",
    "eventsourced.mailbox.depth": 0,
    "eventsourced.command.id": "c-1",
    "eventsourced.event.count": 1,
    "eventsourced.event.seq_no": 1,
  });
  assert.equal(command.status.code, SpanStatusCode.UNSET);
  const children = otel.childrenOf(command);
  assert.deepEqual(children.map((span) => span.name), [
    "mailbox wait",
    "decide",
    "persist",
    "apply and reply",
  ]);
  // The phases follow each other inside the command span.
  let previousEnd = millis(command.startTime);
  for (const child of children) {
    assert.ok(millis(child.startTime) >= previousEnd - 0.001, `${child.name} starts after`);
    assert.ok(millis(child.endTime) >= millis(child.startTime));
    previousEnd = millis(child.endTime);
  }
  assert.ok(previousEnd <= millis(command.endTime) + 0.001);

  const { traceId, spanId } = command.spanContext();
  assert.deepEqual(await storedMetadata(eventLog, "a"), [
    { commandId: "c-1", headers: { traceparent: `00-${traceId}-${spanId}-01`, user: "ada" } },
  ]);
});

test("a command's span hangs under the caller's active span", async () => {
  const manager = new AsyncLocalStorageContextManager().enable();
  assert.ok(context.setGlobalContextManager(manager), "no other context manager is registered");
  try {
    const otel = sdk();
    const instrumentation = openTelemetry(otel.providers);
    const eventLog = new MemoryEventLog();
    const tracer = otel.tracerProvider.getTracer("test");
    await using registry = new EntityRegistry(counter, { eventLog, binarize, instrumentation });
    await tracer.startActiveSpan("request", async (request) => {
      // The first command spawns the entity: the spawn hangs under the request too.
      await registry.handleCommand("a", increase(1));
      await Promise.resolve();
      await registry.handleCommand("a", get);
      request.end();
    });
    const request = otel.one("request");
    const commands = otel.named("counter command");
    assert.equal(commands.length, 2);
    for (const span of [...commands, otel.one("counter spawn")]) {
      assert.equal(span.parentSpanContext?.spanId, request.spanContext().spanId, span.name);
      assert.equal(span.spanContext().traceId, request.spanContext().traceId);
    }
    assert.deepEqual(
      commands.map((span) => span.attributes["eventsourced.command.outcome"]),
      ["emit", "reply"],
    );
  } finally {
    context.disable();
  }
});

test("without an active span, a traceparent in the metadata is the parent, and the events name the command span instead", async () => {
  const otel = sdk();
  const eventLog = new MemoryEventLog();
  const ref = await spawn(counter, "a", {
    eventLog,
    binarize,
    instrumentation: openTelemetry(otel.providers),
  });
  const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const metadata = { headers: { traceparent, tracestate: "vendor=abc" } };
  await ref.handleCommand(increase(1), { metadata });
  await ref.stop();
  const command = otel.one("counter command");
  assert.equal(command.spanContext().traceId, "0af7651916cd43dd8448eb211c80319c");
  assert.equal(command.parentSpanContext?.spanId, "b7ad6b7169203331");
  assert.equal(command.parentSpanContext?.isRemote, true);
  assert.equal(command.spanContext().traceState?.get("vendor"), "abc");
  // The events name the command span, child of the caller's: a projection links to the command.
  assert.deepEqual(await storedMetadata(eventLog, "a"), [{
    headers: {
      traceparent: `00-${command.spanContext().traceId}-${command.spanContext().spanId}-01`,
      tracestate: "vendor=abc",
    },
  }]);
});

test("the trace context is added only where the headers have room", async () => {
  const otel = sdk();
  const eventLog = new MemoryEventLog();
  const ref = await spawn(counter, "a", {
    eventLog,
    binarize,
    instrumentation: openTelemetry(otel.providers),
  });
  const full = {
    headers: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`h${i}`, "x"])),
  };
  await ref.handleCommand(increase(1), { metadata: full });
  await ref.stop();
  assert.deepEqual(await storedMetadata(eventLog, "a"), [full]);
});

test("a failed command's span has an error status, the reason and the exception", async () => {
  const otel = sdk();
  const ref = await spawn(counter, "a", {
    eventLog: new MemoryEventLog(),
    binarize,
    instrumentation: openTelemetry(otel.providers),
  });
  const thrower = {
    handleCommand: (): never => {
      throw new Error("boom");
    },
  };
  await assert.rejects(ref.handleCommand(thrower), { reason: "command-handler-threw" });
  await ref.stop();
  const command = otel.one("counter command");
  assert.equal(command.status.code, SpanStatusCode.ERROR);
  assert.match(command.status.message ?? "", /the command handler threw/);
  assert.equal(command.attributes["eventsourced.command.outcome"], "command-handler-threw");
  assert.equal(command.attributes["error.type"], "command-handler-threw");
  assert.equal(command.events[0]?.name, "exception");
  assert.deepEqual(otel.childrenOf(command).map((span) => span.name), ["mailbox wait", "decide"]);
});

test("10 commands (7 emit, 2 reject, 1 refused) give the metrics they should", async () => {
  const otel = sdk();
  const eventLog = new WrappedEventLog();
  const ref = await spawn(counter, "a", {
    eventLog,
    binarize,
    commandBufferSize: 1,
    instrumentation: openTelemetry(otel.providers),
  });
  let release!: () => void;
  eventLog.nextPersist = (write) => new Promise<void>((r) => release = r).then(write);
  const running = ref.handleCommand(increase(1));
  const waiting = ref.handleCommand(increase(1));
  await assert.rejects(ref.handleCommand(increase(1)), { reason: "mailbox-full" });
  release();
  await Promise.all([running, waiting]);
  for (let i = 0; i < 5; i++) await ref.handleCommand(increase(1));
  for (let i = 0; i < 2; i++) await ref.handleCommand(increase(2_000_000));
  await ref.stop();

  const type = { "eventsourced.entity.type": "counter" };
  const outcome = (name: string) => ({ ...type, "eventsourced.command.outcome": name });
  const duration = "eventsourced.command.duration";
  assert.equal((await otel.metric(duration)).descriptor.unit, "s");
  assert.equal((await otel.value(duration, outcome("emit")) as { count: number }).count, 7);
  assert.equal((await otel.value(duration, outcome("reject")) as { count: number }).count, 2);
  assert.equal((await otel.value(duration, outcome("mailbox-full")) as { count: number }).count, 1);
  assert.equal(await otel.value("eventsourced.command.overloads", type), 1);
  // Depths at arrival: 0 for all but the refused one, which found one waiting.
  assert.deepEqual(await otel.value("eventsourced.mailbox.depth", type), {
    count: 10,
    sum: 1,
    max: 1,
  });
  assert.equal(otel.named("counter command").length, 10);
  const refused = otel.named("counter command").filter((span) =>
    span.attributes["eventsourced.command.outcome"] === "mailbox-full"
  );
  assert.equal(refused.length, 1);
  assert.equal(refused[0]!.status.code, SpanStatusCode.ERROR);
  assert.deepEqual(otel.childrenOf(refused[0]!), []);
});

test("a spawn is a span with snapshot load and replay, and counts the replayed events", async () => {
  const eventLog = new MemoryEventLog();
  const snapshotStore = new MemorySnapshotStore();
  const plain = await spawn(counter, "a", { eventLog, binarize, snapshotStore, snapshotAfter: 4 });
  for (let i = 0; i < 7; i++) await plain.handleCommand(increase(1));
  await plain.stop();

  const otel = sdk();
  const instrumentation = openTelemetry(otel.providers);
  await (await spawn(counter, "a", { eventLog, binarize, snapshotStore, instrumentation })).stop();
  await (await spawn(counter, "a", { eventLog, binarize, instrumentation })).stop();

  const spawns = otel.named("counter spawn");
  assert.deepEqual(spawns.map((span) => span.attributes), [
    {
      "eventsourced.entity.type": "counter",
      "eventsourced.entity.id": "a",
      "eventsourced.replay.events": 3,
      "eventsourced.snapshot.seq_no": 4,
    },
    {
      "eventsourced.entity.type": "counter",
      "eventsourced.entity.id": "a",
      "eventsourced.replay.events": 7,
    },
  ]);
  const [fromSnapshot, fromStart] = spawns as [typeof spawns[0], typeof spawns[0]];
  assert.deepEqual(
    otel.childrenOf(fromSnapshot).map((span) => [span.name, span.attributes]),
    [["snapshot load", {}], ["replay", { "eventsourced.replay.events": 3 }]],
  );
  assert.deepEqual(
    otel.childrenOf(fromStart).map((span) => span.name),
    ["replay"],
    "no snapshot store, no load",
  );
  const type = { "eventsourced.entity.type": "counter" };
  assert.equal(await otel.value("eventsourced.replay.events", type), 10);
  const spawned = await otel.value("eventsourced.spawn.duration", {
    ...type,
    "eventsourced.spawn.outcome": "ok",
  });
  assert.equal((spawned as { count: number }).count, 2);
});

test("a failed spawn's span has an error status and its duration counts as an error", async () => {
  const eventLog = new MemoryEventLog();
  await eventLog.persist("counter", "a", null, [new TextEncoder().encode("not json")]);
  const otel = sdk();
  const instrumentation = openTelemetry(otel.providers);
  await assert.rejects(spawn(counter, "a", { eventLog, binarize, instrumentation }), isSpawnError);
  const span = otel.one("counter spawn");
  assert.equal(span.status.code, SpanStatusCode.ERROR);
  assert.equal(span.events[0]?.name, "exception");
  const failed = await otel.value("eventsourced.spawn.duration", {
    "eventsourced.entity.type": "counter",
    "eventsourced.spawn.outcome": "error",
  });
  assert.equal((failed as { count: number }).count, 1);
});

test("a registry reports its live entities and passivations", async () => {
  const otel = sdk();
  const registry = new EntityRegistry(counter, {
    eventLog: new MemoryEventLog(),
    binarize,
    passivateAfter: 20,
    instrumentation: openTelemetry(otel.providers),
  });
  const type = { "eventsourced.entity.type": "counter" };
  await registry.handleCommand("a", increase(1));
  await registry.handleCommand("b", increase(1));
  assert.equal(await otel.value("eventsourced.entity.live", type), 2);
  // Passivation comes after about 100 ms idle; wait for it, bounded.
  for (let i = 0; i < 500 && registry.size > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(registry.size, 0, "both entities were passivated within 5 s");
  await registry.passivate("a"); // waits until a stop in progress is done
  await registry.passivate("b");
  assert.equal(await otel.value("eventsourced.entity.live", type), 0);
  assert.equal(await otel.value("eventsourced.entity.passivations", type), 2);
  await registry.handleCommand("c", increase(1));
  await registry.close();
  assert.equal(await otel.value("eventsourced.entity.live", type), 0);
  assert.equal(
    await otel.value("eventsourced.entity.passivations", type),
    2,
    "close is no passivation",
  );
});

test("with no SDK registered, openTelemetry() gives no hooks and the metadata stays as sent", async () => {
  assert.deepEqual(openTelemetry(), {});
  assert.deepEqual(
    openTelemetry({
      tracerProvider: trace.getTracerProvider(),
      meterProvider: metrics.getMeterProvider(),
    }),
    {},
  );
  const eventLog = new MemoryEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize, instrumentation: openTelemetry() });
  const metadata = { commandId: "c-1", headers: { user: "ada" } };
  await ref.handleCommand(increase(1), { metadata });
  await ref.stop();
  assert.deepEqual(await storedMetadata(eventLog, "a"), [metadata]);
  assert.equal(trace.getSpan(context.active()), undefined);
});

test("by default the globally registered SDK is used", async () => {
  const otel = sdk();
  assert.ok(trace.setGlobalTracerProvider(otel.tracerProvider));
  assert.ok(metrics.setGlobalMeterProvider(otel.meterProvider));
  try {
    const instrumentation = openTelemetry();
    const ref = await spawn(counter, "a", {
      eventLog: new MemoryEventLog(),
      binarize,
      instrumentation,
    });
    await ref.handleCommand(increase(1));
    await ref.stop();
    assert.equal(otel.named("counter command").length, 1);
    const type = { "eventsourced.entity.type": "counter" };
    assert.equal(
      (await otel.value("eventsourced.mailbox.depth", type) as { count: number }).count,
      1,
    );
  } finally {
    trace.disable();
    metrics.disable();
  }
});

test("with only a meter provider of an SDK, metrics are recorded and no trace context is written", async () => {
  const otel = sdk();
  const eventLog = new MemoryEventLog();
  const instrumentation = openTelemetry({ meterProvider: otel.meterProvider });
  const ref = await spawn(counter, "a", { eventLog, binarize, instrumentation });
  await ref.handleCommand(increase(1));
  await ref.stop();
  assert.deepEqual(await storedMetadata(eventLog, "a"), [{}]);
  const outcome = { "eventsourced.entity.type": "counter", "eventsourced.command.outcome": "emit" };
  const duration = await otel.value("eventsourced.command.duration", outcome);
  assert.equal((duration as { count: number }).count, 1);
  assert.equal(otel.spans.getFinishedSpans().length, 0);
});

test("with only a tracer provider of an SDK, spans are made", async () => {
  const otel = sdk();
  const instrumentation = openTelemetry({ tracerProvider: otel.tracerProvider });
  const ref = await spawn(counter, "a", {
    eventLog: new MemoryEventLog(),
    binarize,
    instrumentation,
  });
  await ref.handleCommand(increase(1));
  await ref.stop();
  assert.equal(otel.named("counter command").length, 1);
  assert.equal(otel.named("counter spawn").length, 1);
});

test("a command its sampler drops makes no span but still passes its trace context on", async () => {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({
    sampler: new AlwaysOffSampler(),
    spanProcessors: [new SimpleSpanProcessor({ exporter: spans })],
  });
  const eventLog = new MemoryEventLog();
  const instrumentation = openTelemetry({ tracerProvider });
  const ref = await spawn(counter, "a", { eventLog, binarize, instrumentation });
  await ref.handleCommand(increase(1));
  await ref.stop();
  await tracerProvider.shutdown();
  assert.deepEqual(spans.getFinishedSpans(), []);
  const [stored] = await storedMetadata(eventLog, "a");
  assert.match(stored?.headers?.traceparent ?? "", /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
});

test("bad options of openTelemetry are refused with a clear error", () => {
  assert.throws(
    () => openTelemetry({ tracer: 1 } as never),
    /Unknown openTelemetry option "tracer": known options are tracerProvider, meterProvider/,
  );
  assert.throws(
    () => openTelemetry({ tracerProvider: {} as never }),
    /Invalid openTelemetry option tracerProvider .*: expected a TracerProvider/,
  );
  assert.throws(() => openTelemetry(5 as never), /Invalid openTelemetry options 5/);
});
