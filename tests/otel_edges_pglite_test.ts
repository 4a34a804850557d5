// The edge hooks of PgliteEventLog and of a projection on PGlite, with the real
// OpenTelemetry SDK (see _otel_edges_log.ts).

import { after, before } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import {
  PgliteEventLog,
  type PgliteEventLogOptions,
  PgliteOffsetStore,
} from "../adapters/pglite/mod.ts";
import { testLogEdges } from "./_otel_edges_log.ts";

let db: PGlite;

before(async () => {
  db = await PGlite.create();
  await new PgliteEventLog(db).setup();
  await new PgliteOffsetStore(db).setup();
});

after(async () => {
  await db?.close();
});

testLogEdges({
  name: "pglite",
  groupCommit: true,
  eventLog: (options) => new PgliteEventLog(db, options as PgliteEventLogOptions),
  offsetStore: () => new PgliteOffsetStore(db) as never,
});
