// copyStore from PGlite (the prototype's store) into PostgreSQL on a server started for this
// file, and back, each store in tables of its own.

import { after, before } from "node:test";
import postgres from "postgres";
import { PGlite } from "@electric-sql/pglite";
import { PgliteStoreAdmin } from "../adapters/pglite/mod.ts";
import { PostgresStoreAdmin } from "../adapters/postgres/mod.ts";
import type { StoreAdmin } from "../admin/mod.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";
import { testCopy } from "./copy_suite.ts";
import { freshTables } from "./copy_fixtures.ts";

let server: PostgresServer;
let sql: postgres.Sql;
let db: PGlite;

before(async () => {
  server = await startPostgres({ fsync: false });
  sql = postgres(server.url, { onnotice: () => {} });
  db = await PGlite.create();
}, { timeout: 120_000 });

after(async () => {
  await db?.close();
  await sql?.end({ timeout: 5 });
  await server?.stop();
}, { timeout: 60_000 });

function openPglite(): Promise<StoreAdmin> {
  return freshTables((options) => new PgliteStoreAdmin(db, options));
}

function openPostgres(): Promise<StoreAdmin> {
  return freshTables((options) => new PostgresStoreAdmin(sql, options));
}

testCopy("PGlite to PostgreSQL", openPglite, openPostgres);
testCopy("PostgreSQL to PGlite", openPostgres, openPglite);
