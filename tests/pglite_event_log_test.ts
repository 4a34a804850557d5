import { after, before } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import { PgliteEventLog, PgliteSnapshotStore } from "../adapters/pglite/mod.ts";
import { testEventLog, testSnapshotStore } from "../testing/mod.ts";

let db: PGlite;
before(async () => {
  db = await PGlite.create();
  await new PgliteEventLog(db).setup();
});
after(async () => {
  await db.close();
});

testEventLog("PgliteEventLog", () => new PgliteEventLog(db), {
  dispose: (log) => (log as PgliteEventLog).close(),
});
testSnapshotStore("PgliteSnapshotStore", () => new PgliteSnapshotStore(db));
