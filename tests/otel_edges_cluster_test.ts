// The entity cluster's NATS hop with the real OpenTelemetry SDK: an instrumented EntityClient
// makes a CLIENT span per send and carries its trace context in the command's metadata, so the
// command span of an instrumented EntityHost (client and host in this process, on their own
// connections to a real nats-server) is its child.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { EntityClient } from "../adapters/nats/mod.ts";
import { type Instrumentation, isHandleCommandError } from "../mod.ts";
import { openTelemetry } from "../opentelemetry/mod.ts";
import { collect } from "../testing/mod.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import { accountCommands, GatedLog, startHost, uniqueCluster } from "./_cluster.ts";
import { Sdk } from "./_otel_sdk.ts";

let server: NatsTestServer;
let nc: NatsConnection;

before(async () => {
  server = await startNatsServer({ own: true });
  nc = await connect({ servers: server.tcpUrl! });
});

after(async () => {
  await nc?.close();
  await server?.dispose();
});

const CLIENT = 2; // SpanKind.CLIENT

test("a send is a CLIENT span whose trace context crosses the hop: the host's command span is its child", async () => {
  const sdk = new Sdk();
  const instrumentation = openTelemetry(sdk.providers);
  const cluster = uniqueCluster();
  const log = new GatedLog();
  const host = await startHost(server.tcpUrl!, cluster, log, { instrumentation });
  try {
    const client = new EntityClient(nc, {
      cluster,
      entities: { account: accountCommands },
      instrumentation,
    });
    assert.deepEqual(
      await client.send("account", "ann", "deposit", { amount: 50 }, { commandId: "d1" }),
      { ok: true, value: 50 },
    );
    assert.deepEqual(
      await client.send("account", "ann", "withdraw", { amount: 80 }),
      { ok: false, error: { code: "InsufficientFunds", balance: 50 } },
    );
    const sends = sdk.named("account send");
    const commands = sdk.named("account command");
    assert.equal(sends.length, 2);
    assert.equal(commands.length, 2);
    for (const [i, outcome] of (["reply", "reject"] as const).entries()) {
      const send = sends[i]!;
      assert.equal(send.kind, CLIENT);
      assert.equal(send.attributes["eventsourced.entity.type"], "account");
      assert.equal(send.attributes["eventsourced.entity.id"], "ann");
      assert.equal(
        send.attributes["eventsourced.command.name"],
        i === 0 ? "deposit" : "withdraw",
      );
      assert.equal(send.attributes["eventsourced.command.outcome"], outcome);
      assert.equal(send.status.code, 0);
      // The host's command span hangs under the send span, in its trace, across the hop.
      const command = commands.find((span) =>
        span.parentSpanContext?.spanId === send.spanContext().spanId
      );
      assert.ok(command, `no command span under send ${i}`);
      assert.equal(command.spanContext().traceId, send.spanContext().traceId);
      assert.equal(command.parentSpanContext?.isRemote, true);
    }
    assert.equal(sends[0]!.attributes["eventsourced.command.id"], "d1");
    // The event of the deposit names the host's command span, the send span's child, so a
    // projection links to the command that wrote it.
    const [event] = await collect(log.inner.eventsById("account", "ann", 1));
    const deposit = commands.find((span) =>
      span.parentSpanContext?.spanId === sends[0]!.spanContext().spanId
    )!;
    assert.equal(
      event!.metadata.headers?.traceparent,
      `00-${deposit.spanContext().traceId}-${deposit.spanContext().spanId}-01`,
    );
    assert.equal(event!.metadata.commandId, "d1");

    const reply = await sdk.value("eventsourced.cluster.send.duration", {
      "eventsourced.entity.type": "account",
      "eventsourced.command.outcome": "reply",
    });
    assert.equal((reply as { count: number }).count, 1);
    const rejected = await sdk.value("eventsourced.cluster.send.duration", {
      "eventsourced.entity.type": "account",
      "eventsourced.command.outcome": "reject",
    });
    assert.equal((rejected as { count: number }).count, 1);
  } finally {
    await host.stop();
    await sdk.shutdown();
  }
});

test("a failed send ends its span with an error status and the failure reason", async () => {
  const sdk = new Sdk();
  const client = new EntityClient(nc, {
    cluster: uniqueCluster(),
    entities: { account: accountCommands },
    timeout: 300,
    instrumentation: openTelemetry(sdk.providers),
  });
  // No host serves this cluster: the send fails for want of its configuration.
  await assert.rejects(
    client.send("account", "ann", "deposit", { amount: 1 }),
    (error) => isHandleCommandError(error) && error.reason === "unavailable",
  );
  const send = sdk.one("account send");
  assert.equal(send.attributes["eventsourced.command.outcome"], "unavailable");
  assert.equal(send.status.code, 2); // SpanStatusCode.ERROR
  await sdk.shutdown();
});

test("without instrumentation or without a tracer nothing is added to what crosses the hop; a hook that throws fails no send", async () => {
  const cluster = uniqueCluster();
  const log = new GatedLog();
  const host = await startHost(server.tcpUrl!, cluster, log);
  try {
    const plain = new EntityClient(nc, { cluster, entities: { account: accountCommands } });
    const metadata = { correlationId: "c-1", headers: { user: "ada" } };
    await plain.send("account", "ann", "deposit", { amount: 5 }, { commandId: "p1", metadata });
    const throwing: Instrumentation = {
      clusterSend: () => {
        throw new Error("hook failed");
      },
    };
    const observed = new EntityClient(nc, {
      cluster,
      entities: { account: accountCommands },
      instrumentation: throwing,
    });
    await observed.send("account", "ann", "deposit", { amount: 5 }, { commandId: "p2", metadata });
    // A hook whose metadata changes the commandId is not followed.
    const sneaky = new EntityClient(nc, {
      cluster,
      entities: { account: accountCommands },
      instrumentation: {
        clusterSend: (_type, _id, _command, given) => ({
          metadata: { ...given, commandId: "other" },
          ended: () => {},
        }),
      },
    });
    await sneaky.send("account", "ann", "deposit", { amount: 5 }, { commandId: "p3", metadata });
    // Metrics without a tracer: the send is measured, its metadata left as it is.
    const sdk = new Sdk();
    const measured = new EntityClient(nc, {
      cluster,
      entities: { account: accountCommands },
      instrumentation: openTelemetry({ meterProvider: sdk.meterProvider }),
    });
    await measured.send("account", "ann", "deposit", { amount: 5 }, { commandId: "p4", metadata });
    const sent = await sdk.value("eventsourced.cluster.send.duration", {
      "eventsourced.entity.type": "account",
      "eventsourced.command.outcome": "reply",
    });
    assert.equal((sent as { count: number }).count, 1);
    assert.equal(sdk.spans.getFinishedSpans().length, 0);
    await sdk.shutdown();
    const events = await collect(log.inner.eventsById("account", "ann", 1));
    assert.deepEqual(
      events.map((event) => event.metadata),
      ["p1", "p2", "p3", "p4"].map((commandId) => ({ commandId, ...metadata })),
    );
    assert.throws(
      () => new EntityClient(nc, { cluster, instrumentation: { clusterSend: 1 } as never }),
      /EntityClient option instrumentation: its clusterSend is 1, expected a function/,
    );
  } finally {
    await host.stop();
  }
});
