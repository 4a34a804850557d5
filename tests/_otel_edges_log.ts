// The edge hooks on an event log of this package, with the real OpenTelemetry SDK: its persist
// batches (the SQL group commit's, one message per persist on NATS) as spans linked to the
// commands that wrote them, their metrics, and a projection over the same events whose batch
// spans link to those commands, with its lag.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { emit, EntityRegistry, type EventLog, type Instrumentation, jsonBinarize } from "../mod.ts";
import { type OffsetStore, Projection } from "../projection/mod.ts";
import { collect, uniqueTypeName } from "../testing/mod.ts";
import { openTelemetry } from "../opentelemetry/mod.ts";
import { Sdk } from "./_otel_sdk.ts";

/** A log (and offset store) of the backend under test, with `instrumentation` when given. */
export interface LogBackend {
  readonly name: "postgres" | "pglite" | "nats";
  /** Whether persists that wait together go as one batch (group commit). */
  readonly groupCommit: boolean;
  eventLog(options: { instrumentation?: unknown }): EventLog & { close(): Promise<void> };
  readonly offsetStore: () => OffsetStore<unknown>;
}

const IDS = ["a", "b", "c", "d", "e", "f", "g", "h"];

function spanIds(spans: readonly ReadableSpan[]): string[] {
  return spans.map((span) => span.spanContext().spanId).sort();
}

function linkedIds(spans: readonly ReadableSpan[]): string[] {
  return spans.flatMap((span) => span.links.map((link) => link.context.spanId)).sort();
}

function sumOf(spans: readonly ReadableSpan[], attribute: string): number {
  return spans.reduce((sum, span) => sum + (span.attributes[attribute] as number), 0);
}

// The count and sum of a histogram's value.
function pick(value: Awaited<ReturnType<Sdk["value"]>>): { count: number; sum: number } {
  assert.equal(typeof value, "object");
  const { count, sum } = value as { count: number; sum: number };
  return { count, sum };
}

/** Registers the tests of the edge hooks on `backend`. */
export function testLogEdges(backend: LogBackend): void {
  test(`${backend.name}: each persist batch is a span linked to the commands it wrote, with its metrics; a projection batch links to the same commands and reports its lag`, async () => {
    const sdk = new Sdk();
    const instrumentation = openTelemetry(sdk.providers);
    const log = backend.eventLog({ instrumentation });
    const typeName = uniqueTypeName("otel");
    const counter = { typeName, initialState: 0, handleEvent: (n: number, by: number) => n + by };
    const binarize = jsonBinarize<number, number>();
    const registry = new EntityRegistry(counter, {
      eventLog: log,
      binarize,
      instrumentation: instrumentation,
    });
    try {
      // Eight entities at once, twice: the second round emits two events per command.
      await Promise.all(
        IDS.map((id) => registry.handleCommand(id, { handleCommand: () => emit(1) })),
      );
      await Promise.all(
        IDS.map((id) => registry.handleCommand(id, { handleCommand: () => emit([2, 3]) })),
      );
      const events = await collect(log.eventsByType(typeName, 1));
      assert.equal(events.length, 24);
      const bytes = events.reduce((sum, event) => sum + event.bytes.length, 0);

      const commands = sdk.named(`${typeName} command`);
      assert.equal(commands.length, 16);
      const batches = sdk.named(`${backend.name} persist batch`);
      if (backend.groupCommit) {
        assert.ok(batches.length >= 2 && batches.length <= 16, `${batches.length} batches`);
        assert.ok(
          batches.some((span) => (span.attributes["eventsourced.batch.writes"] as number) > 1),
        );
      } else {
        assert.equal(batches.length, 16);
      }
      for (const span of batches) {
        assert.equal(span.kind, 2); // SpanKind.CLIENT
        assert.equal(span.parentSpanContext, undefined); // a trace of its own, linked
        assert.equal(span.attributes["eventsourced.backend"], backend.name);
        assert.equal(span.status.code, 0);
      }
      assert.equal(sumOf(batches, "eventsourced.batch.writes"), 16);
      assert.equal(sumOf(batches, "eventsourced.batch.events"), 24);
      assert.equal(sumOf(batches, "eventsourced.batch.bytes"), bytes);
      // Each write links to the span of the command that persisted it, once.
      assert.deepEqual(linkedIds(batches), spanIds(commands));

      const on = { "eventsourced.backend": backend.name };
      const count = batches.length;
      assert.deepEqual(
        pick(await sdk.value("eventsourced.persist.batch.writes", on)),
        { count, sum: 16 },
      );
      assert.deepEqual(
        pick(await sdk.value("eventsourced.persist.batch.events", on)),
        { count, sum: 24 },
      );
      assert.equal(pick(await sdk.value("eventsourced.persist.batch.duration", on)).count, count);

      // Every event carries its command's trace context, so the projection links to them.
      const name = uniqueTypeName("otel-projection");
      let handled = 0;
      const projection = new Projection(name, {
        typeName,
        eventLog: log,
        binarize,
        offsetStore: backend.offsetStore(),
        handleBatch: (batch) => void (handled += batch.length),
        batchSize: 5,
        batchMs: 10,
        instrumentation: instrumentation,
      });
      const before = Date.now();
      void projection.run();
      await projection.whenCaughtUp();
      const caughtUp = Date.now();
      await projection.stop();
      assert.equal(handled, 24);
      const projected = sdk.named(`${name} projection batch`);
      assert.ok(projected.length >= 5, `${projected.length} projection batches`);
      assert.equal(sumOf(projected, "eventsourced.projection.events"), 24);
      for (const span of projected) {
        assert.equal(span.kind, 4); // SpanKind.CONSUMER
        assert.equal(span.parentSpanContext, undefined);
        assert.equal(span.attributes["eventsourced.projection.name"], name);
        assert.equal(span.attributes["eventsourced.entity.type"], typeName);
      }
      // A command's events may fall in two batches: each batch links to its commands once.
      assert.deepEqual([...new Set(linkedIds(projected))].sort(), spanIds(commands));
      const traces = new Set(commands.map((span) => span.spanContext().traceId));
      for (const span of projected) {
        for (const link of span.links) assert.ok(traces.has(link.context.traceId));
      }

      const last = events[events.length - 1]!;
      const byName = { "eventsourced.projection.name": name };
      assert.equal(await sdk.value("eventsourced.projection.events", byName), 24);
      assert.equal(await sdk.value("eventsourced.projection.position", byName), last.position);
      // The last batch committed between `before` and `caughtUp`: its lag is the time since
      // its last event was written, as of then.
      const lag = await sdk.value("eventsourced.projection.lag", byName) as number;
      assert.ok(lag >= (before - last.writtenAt) / 1000, `lag ${lag}`);
      assert.ok(lag <= (caughtUp - last.writtenAt) / 1000, `lag ${lag}`);
      assert.equal(
        pick(await sdk.value("eventsourced.projection.batch.duration", byName)).count,
        projected.length,
      );
      // After a batch a log that counts (countAfter) is asked, at most once a second, how many
      // events lie after it: no event was written meanwhile, so it is 24 minus a batch's last
      // position. A log that does not count (NATS) records no such gauge.
      if (log.countAfter === undefined) {
        await assert.rejects(
          sdk.value("eventsourced.projection.lag.events", byName),
          /No metric "eventsourced.projection.lag.events"/,
        );
      } else {
        let behind: unknown;
        for (let tries = 0; tries < 100 && behind === undefined; tries++) {
          behind = await sdk.value("eventsourced.projection.lag.events", byName).catch(() =>
            undefined
          );
          if (behind === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const counts = projected.map((span) => {
          const position = span.attributes["eventsourced.projection.to_position"] as number;
          return events.filter((event) => event.position > position).length;
        });
        assert.ok(counts.includes(behind as number), `lag.events ${behind}, one of ${counts}`);
      }
    } finally {
      await registry.close();
      await log.close();
      await sdk.shutdown();
    }
  });

  test(`${backend.name}: a persistBatch hook that throws fails no write, and a bad instrumentation is refused`, async () => {
    const throwing: Instrumentation = {
      persistBatch: () => {
        throw new Error("hook failed");
      },
    };
    const log = backend.eventLog({ instrumentation: throwing });
    const typeName = uniqueTypeName("otel");
    try {
      assert.equal(await log.persist(typeName, "a", null, [new Uint8Array([1])]), 1);
      const ended: unknown[] = [];
      const observed = backend.eventLog({
        instrumentation: {
          persistBatch: () => ({
            ended: (error?: unknown) => {
              ended.push(error);
              throw new Error("ended failed");
            },
          }),
        } satisfies Instrumentation,
      });
      assert.equal(await observed.persist(typeName, "a", 1, [new Uint8Array([2])]), 2);
      // A stale lastSeqNo fails that write, not the batch (on NATS it is found before sending).
      await assert.rejects(observed.persist(typeName, "a", 1, [new Uint8Array([3])]), {
        name: "ConcurrencyError",
      });
      assert.deepEqual(ended, backend.groupCommit ? [undefined, undefined] : [undefined]);
      await observed.close();
    } finally {
      await log.close();
    }
    assert.throws(() => backend.eventLog({ instrumentation: 5 }), /option instrumentation/);
    assert.throws(
      () => backend.eventLog({ instrumentation: { persistBatch: "yes" } }),
      /instrumentation: its persistBatch is "yes", expected a function/,
    );
  });
}
