// The edge hooks of NatsEventLog (one message per persist: a batch of one write) and of a
// projection on NATS, on a real nats-server, with the real OpenTelemetry SDK (see
// _otel_edges_log.ts).

import { after, before } from "node:test";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { NatsEventLog, type NatsEventLogOptions, NatsOffsetStore } from "../adapters/nats/mod.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import { testLogEdges } from "./_otel_edges_log.ts";

let server: NatsTestServer;
let nc: NatsConnection;

before(async () => {
  server = await startNatsServer({ own: true });
  nc = await connect({ servers: server.tcpUrl! });
  await new NatsEventLog(nc).setup({ storage: "memory" });
  await new NatsOffsetStore(nc).setup();
});

after(async () => {
  await nc?.close();
  await server?.dispose();
});

testLogEdges({
  name: "nats",
  groupCommit: false,
  eventLog: (options) => new NatsEventLog(nc, options as NatsEventLogOptions),
  offsetStore: () => new NatsOffsetStore(nc) as never,
});
