// The projection batch spans and metrics of a projection over several types, with the real
// OpenTelemetry SDK: a batch holding two types names both instead of a position range, and the
// position gauge is recorded per type, since positions only compare within a type.

import { test } from "node:test";
import assert from "node:assert/strict";
import { jsonBinarize, MemoryEventLog } from "../mod.ts";
import { MemoryOffsetStore, MultiTypeProjection } from "../projection/mod.ts";
import { openTelemetry } from "../opentelemetry/mod.ts";
import { uniqueTypeName } from "../testing/mod.ts";
import { Sdk } from "./_otel_sdk.ts";

const codec = jsonBinarize<{ n: number }, unknown>();

test("a batch over two types names its types and records a position per type", async () => {
  const sdk = new Sdk();
  try {
    const eventLog = new MemoryEventLog();
    const accounts = uniqueTypeName("account");
    const transfers = uniqueTypeName("transfer");
    for (let i = 0; i < 3; i++) {
      await eventLog.persist(accounts, `a${i}`, null, [codec.eventToBytes({ n: i })]);
    }
    for (let i = 0; i < 2; i++) {
      await eventLog.persist(transfers, `t${i}`, null, [codec.eventToBytes({ n: i })]);
    }
    let handled = 0;
    const projection = new MultiTypeProjection("ledger", {
      types: { [accounts]: codec, [transfers]: codec },
      eventLog,
      offsetStore: new MemoryOffsetStore(),
      batchSize: 100,
      batchMs: 20,
      handleBatch: (batch) => void (handled += batch.length),
      instrumentation: openTelemetry(sdk.providers),
    });
    void projection.run();
    await projection.whenCaughtUp();
    await projection.stop();
    assert.equal(handled, 5);

    const spans = sdk.named("ledger projection batch");
    assert.equal(
      spans.reduce(
        (sum, span) => sum + (span.attributes["eventsourced.projection.events"] as number),
        0,
      ),
      5,
    );
    for (const span of spans) {
      const types = span.attributes["eventsourced.projection.types"];
      if (types === undefined) {
        // A batch of one type keeps the single-type attributes.
        assert.ok(
          [accounts, transfers].includes(span.attributes["eventsourced.entity.type"] as string),
        );
        assert.equal(typeof span.attributes["eventsourced.projection.from_position"], "number");
      } else {
        assert.deepEqual([...(types as string[])].sort(), [accounts, transfers].sort());
        assert.equal(span.attributes["eventsourced.entity.type"], undefined);
        assert.equal(span.attributes["eventsourced.projection.from_position"], undefined);
      }
    }
    const mixed = spans.filter((span) =>
      span.attributes["eventsourced.projection.types"] !== undefined
    );
    assert.ok(mixed.length > 0, "no batch held both types");
    const name = "eventsourced.projection.name";
    const type = "eventsourced.entity.type";
    assert.equal(
      await sdk.value("eventsourced.projection.position", { [name]: "ledger", [type]: accounts }),
      3,
    );
    assert.equal(
      await sdk.value("eventsourced.projection.position", {
        [name]: "ledger",
        [type]: transfers,
      }),
      2,
    );
    assert.equal(
      await sdk.value("eventsourced.projection.events", {
        "eventsourced.projection.name": "ledger",
      }),
      5,
    );
  } finally {
    await sdk.shutdown();
  }
});
