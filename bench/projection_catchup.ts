// Projection catch-up: a projection starting at offset 0 works through N events already in the
// log, next to the raw read rate of the same event log (a finite eventsByType over the same
// events), measured in the same run on the same backend. The read model is real: account
// balances upserted per batch into the backend's database (Postgres, PGlite) or a Map (memory,
// NATS), in the offset's transaction where the store has one.
//
//   deno run -A bench/projection_catchup.ts [--backend postgres|pglite|memory|nats]
//     [--events 100000] [--entities 100] [--batch 1000] [--rounds 3] [--unbatched 10000]
//
// Each run starts with one untimed round (JIT, server caches, prepared statements), then
// `--rounds` timed rounds, each a raw read followed by a catch-up of a new projection; the
// summary gives the medians.
// --unbatched N also runs a projection with batchSize 1 (one transaction per event, one upsert
// per event) over the first N events, for comparison. Uses PG_URL / NATS_WS_URL when set, else
// starts a throwaway server (tests/_servers).

import process from "node:process";
import postgres from "postgres";
import { PGlite } from "@electric-sql/pglite";
import { wsconnect } from "@nats-io/nats-core";
import { type EventLog, jsonBinarize, MemoryEventLog } from "../mod.ts";
import { PostgresEventLog } from "../adapters/postgres/mod.ts";
import { PgliteEventLog } from "../adapters/pglite/mod.ts";
import { NatsEventLog, NatsOffsetStore } from "../adapters/nats/mod.ts";
import {
  type BatchHandler,
  MemoryOffsetStore,
  type OffsetStore,
  Projection,
} from "../projection/mod.ts";
import { PostgresOffsetStore } from "../adapters/postgres/mod.ts";
import { PgliteOffsetStore } from "../adapters/pglite/mod.ts";
import { startPostgres } from "../tests/_servers/postgres.ts";
import { startNatsServer } from "../tests/_servers/nats.ts";

type Event = { type: "deposited" | "withdrawn"; amount: number };
const binarize = jsonBinarize<Event, unknown>();

function flag(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  const index = args.indexOf(`--${name}`);
  return index >= 0 && args[index + 1] !== undefined ? args[index + 1]! : fallback;
}
const backendName = flag("backend", "postgres");
const total = Number(flag("events", "100000"));
const entities = Number(flag("entities", "100"));
const batchSize = Number(flag("batch", "1000"));
const rounds = Number(flag("rounds", "3"));
const unbatched = Number(flag("unbatched", "0"));

/** The backend: the event log, an offset store, and a read model built on its database. */
interface Backend {
  eventLog: EventLog;
  // deno-lint-ignore no-explicit-any
  offsetStore: OffsetStore<any>;
  /** A fresh read model: the batch handler that upserts balances, and its event count check. */
  // deno-lint-ignore no-explicit-any
  readModel(name: string): Promise<{ handleBatch: BatchHandler<Event, any> }>;
  close(): Promise<void>;
}

/** Sums the balance changes of a batch per account. */
function changes(envelopes: readonly { id: string; event: Event }[]): Map<string, number> {
  const sums = new Map<string, number>();
  for (const { id, event } of envelopes) {
    const change = event.type === "deposited" ? event.amount : -event.amount;
    sums.set(id, (sums.get(id) ?? 0) + change);
  }
  return sums;
}

async function openBackend(name: string): Promise<Backend> {
  switch (name) {
    case "memory":
      return {
        eventLog: new MemoryEventLog(),
        offsetStore: new MemoryOffsetStore(),
        readModel: () => Promise.resolve(mapReadModel()),
        close: () => Promise.resolve(),
      };
    case "postgres": {
      const server = await startPostgres({ fsync: process.env.BENCH_PG_FSYNC !== "off" });
      const sql = postgres(server.url, { max: 10, onnotice: () => {} });
      const eventLog = new PostgresEventLog(sql);
      await eventLog.setup();
      const offsetStore = new PostgresOffsetStore(sql);
      await offsetStore.setup();
      return {
        eventLog,
        offsetStore,
        async readModel(projection) {
          const table = `balances_${projection.replaceAll("-", "_")}`;
          await sql`create table ${sql(table)} (id text primary key, cents bigint not null)`;
          return {
            handleBatch: async (envelopes, { tx }: { tx: postgres.TransactionSql }) => {
              const sums = changes(envelopes);
              await tx`insert into ${tx(table)} (id, cents)
                select * from unnest(${[...sums.keys()]}::text[], ${[...sums.values()]}::bigint[])
                on conflict (id) do update set cents = ${tx(table)}.cents + excluded.cents`;
            },
          };
        },
        async close() {
          await eventLog.close();
          await sql.end({ timeout: 5 });
          await server.stop();
        },
      };
    }
    case "pglite": {
      const db = await PGlite.create();
      const eventLog = new PgliteEventLog(db);
      await eventLog.setup();
      const offsetStore = new PgliteOffsetStore(db);
      await offsetStore.setup();
      return {
        eventLog,
        offsetStore,
        async readModel(projection) {
          const table = `balances_${projection.replaceAll("-", "_")}`;
          await db.exec(`create table ${table} (id text primary key, cents bigint not null)`);
          return {
            handleBatch: async (envelopes, { tx }) => {
              const sums = changes(envelopes);
              await tx.query(
                `insert into ${table} (id, cents) select * from unnest($1::text[], $2::bigint[])
                 on conflict (id) do update set cents = ${table}.cents + excluded.cents`,
                [[...sums.keys()], [...sums.values()]],
              );
            },
          };
        },
        async close() {
          await eventLog.close();
          await db.close();
        },
      };
    }
    case "nats": {
      const server = await startNatsServer();
      const nc = await wsconnect({ servers: server.wsUrl });
      const eventLog = new NatsEventLog(nc);
      await eventLog.setup();
      const offsetStore = new NatsOffsetStore(nc);
      await offsetStore.setup();
      return {
        eventLog,
        offsetStore,
        readModel: () => Promise.resolve(mapReadModel()),
        async close() {
          await nc.close();
          await server.dispose();
        },
      };
    }
    default:
      throw new Error(`Unknown --backend ${name}: expected postgres, pglite, memory or nats`);
  }
}

function mapReadModel(): { handleBatch: BatchHandler<Event, unknown> } {
  const balances = new Map<string, number>();
  return {
    handleBatch: (envelopes) => {
      for (const [id, change] of changes(envelopes)) {
        balances.set(id, (balances.get(id) ?? 0) + change);
      }
    },
  };
}

/** Writes `total` events over `entities` accounts, 100 events per persist, all accounts at once. */
async function fill(eventLog: EventLog, typeName: string): Promise<number> {
  const perEntity = Math.ceil(total / entities);
  let last = 0;
  await Promise.all(Array.from({ length: entities }, async (_, e) => {
    let seqNo: number | null = null;
    for (let written = 0; written < perEntity;) {
      const chunk = Math.min(100, perEntity - written);
      const events = Array.from({ length: chunk }, (_, i) =>
        binarize.eventToBytes({
          type: (written + i) % 3 === 2 ? "withdrawn" : "deposited",
          amount: 1 + ((e + written + i) % 97),
        }));
      seqNo = await eventLog.persist(typeName, `acc-${e}`, seqNo, events);
      written += chunk;
    }
  }));
  for await (const event of eventLog.eventsByType(typeName, 0)) last = event.position;
  return last;
}

async function rawRead(eventLog: EventLog, typeName: string): Promise<number> {
  const start = performance.now();
  let count = 0;
  for await (const _ of eventLog.eventsByType(typeName, 0)) count++;
  return count / ((performance.now() - start) / 1000);
}

async function catchUp(
  backend: Backend,
  typeName: string,
  name: string,
  options: { batchSize: number; upTo: number; count: number },
): Promise<number> {
  const { handleBatch } = await backend.readModel(name);
  const projection = new Projection(name, {
    typeName,
    eventLog: backend.eventLog,
    binarize,
    offsetStore: backend.offsetStore,
    batchSize: options.batchSize,
    handleBatch,
  });
  const start = performance.now();
  await projection.run();
  // Wait for the known last position (whenCaughtUp would read the tail once more to find it).
  while ((projection.state().offset ?? 0) < options.upTo) {
    const error = projection.state().lastError;
    if (error) throw error;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const seconds = (performance.now() - start) / 1000;
  await projection.stop();
  return options.count / seconds;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

const backend = await openBackend(backendName);
try {
  const typeName = `bench-${Date.now().toString(36)}`;
  const writeStart = performance.now();
  const last = await fill(backend.eventLog, typeName);
  const written = Math.ceil(total / entities) * entities;
  console.log(
    `${backendName}: ${fmt(written)} events of ${entities} accounts written in ${
      fmt(performance.now() - writeStart)
    } ms; projection batch ${batchSize}`,
  );
  const raws: number[] = [];
  const projections: number[] = [];
  for (let round = 0; round <= rounds; round++) {
    const raw = await rawRead(backend.eventLog, typeName);
    const projected = await catchUp(backend, typeName, `catchup-${round}`, {
      batchSize,
      upTo: last,
      count: written,
    });
    if (round === 0) continue;
    raws.push(raw);
    projections.push(projected);
    console.log(
      `round ${round}: raw read ${fmt(raw)} events/s, projection catch-up ${
        fmt(projected)
      } events/s (${(projected / raw).toFixed(2)}× raw)`,
    );
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  const ratios = projections.map((projected, i) => projected / raws[i]!);
  console.log(
    `median of ${rounds} rounds: raw read ${fmt(median(raws))} events/s, projection catch-up ` +
      `${fmt(median(projections))} events/s, ratio ${median(ratios).toFixed(2)}× raw`,
  );
  if (unbatched > 0) {
    let upTo = 0;
    let count = 0;
    for await (const event of backend.eventLog.eventsByType(typeName, 0)) {
      if (++count > unbatched) break;
      upTo = event.position;
    }
    const single = await catchUp(backend, typeName, "catchup-unbatched", {
      batchSize: 1,
      upTo,
      count: Math.min(unbatched, written),
    });
    console.log(`unbatched (batchSize 1, first ${fmt(unbatched)} events): ${fmt(single)} events/s`);
  }
} finally {
  await backend.close();
}
process.exit(0);
