// The SQL scale ladder of bench/scale.ts (PostgreSQL and PGlite): the event log grows size by size
// (10 events per entity, one snapshot per 10 entities) and at each size the library's operations
// are measured beside the raw driver doing the same work in the same run:
//
// - fill: the library's persists (10 events per call, `--fill-concurrency` in flight) beside a
//   raw multi-row INSERT of the same rows into a plain table with the same keys (`raw_events`);
// - append: sequential, and 64 writers at once, to random existing entities; the raw driver
//   inserts the same rows into `raw_events` (single-row commits; multi-row INSERTs, 2 in flight);
// - cold spawn of a random entity never spawned before (p50/p99), with and without a snapshot,
//   beside the raw driver reading the same rows (snapshot, then events after it);
// - `lastSeqNo` of a random entity beside the raw `order by seq_no desc limit 1`;
// - a finite `eventsByType` over the last 100k positions beside a raw keyset-paged read;
// - a new projection's catch-up over every event beside a raw keyset-paged read of them all;
// - bytes on disk per event: each table and index of the library's log and of `raw_events`.
//
//   deno run -A bench/scale.ts --backend postgres [--sizes 10k,100k,1M,10M] [--samples 300]
//   deno run -A bench/scale.ts --backend pglite [--sizes 10k,100k,1M]
//
// PostgreSQL runs as a temporary server (fsync on; `--shared-buffers`, default 1GB, and
// max_wal_size 4GB, as a production server would be configured) in a folder under `--dir`
// (default the system's temporary folder); PGlite in a temporary data folder on disk.

import { mkdtempSync, rmSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import postgres from "postgres";
import { PGlite } from "@electric-sql/pglite";
import {
  type EventLog,
  type EventSourced,
  jsonBinarize,
  type SnapshotStore,
  spawn,
} from "../mod.ts";
import {
  PostgresEventLog,
  PostgresOffsetStore,
  PostgresSnapshotStore,
} from "../adapters/postgres/mod.ts";
import { PgliteEventLog, PgliteOffsetStore, PgliteSnapshotStore } from "../adapters/pglite/mod.ts";
import { type OffsetStore, Projection } from "../projection/mod.ts";
import { startPostgres } from "../tests/_servers/postgres.ts";
import { intFlag } from "./_args.ts";
import { median } from "./_stats.ts";
import { bytes, cell, latencies, parseSize, printTable, rateOf, size } from "./_scale_report.ts";
import { printSqlSummary, type SqlSizeResult } from "./_scale_sql_summary.ts";

type Event = { type: "deposited" | "withdrawn"; amount: number };
const TYPE = "account";
const EVENTS_PER_ENTITY = 10;
const SNAPSHOT_EVERY = 10;
const SNAPSHOT_AT = 8;
// The library's tables under their default names (prefix "eventsourced_").
const EVENTS = "eventsourced_events";
const SNAPSHOTS = "eventsourced_snapshots";
const binarize = jsonBinarize<Event, number>();
const account: EventSourced<number, Event> = {
  typeName: TYPE,
  initialState: 0,
  handleEvent: (balance, e) => e.type === "deposited" ? balance + e.amount : balance - e.amount,
};

/** The raw driver of a target: statements with parameters, rows as arrays. */
interface RawSql {
  rows(text: string, params?: unknown[]): Promise<unknown[][]>;
}

/** An opened backend for the ladder. */
interface SqlTarget {
  name: string;
  eventLog: EventLog;
  snapshotStore: SnapshotStore;
  // deno-lint-ignore no-explicit-any
  offsetStore: OffsetStore<any>;
  raw: RawSql;
  /** The settings that matter for the figures, printed with them. */
  describe: string;
  close(): Promise<void>;
}

const eventBytes = (entity: number, seq: number) =>
  binarize.eventToBytes({
    type: seq % 3 === 0 ? "withdrawn" : "deposited",
    amount: 1 + ((entity * 7 + seq) % 97),
  });
const idOf = (entity: number) => `acc-${entity}`;

// A small deterministic generator, so every run samples the same entities.
function randoms(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

const RAW_TABLE = `create table raw_events (
    type_name text not null,
    id text not null,
    seq_no bigint not null,
    position bigint not null,
    bytes bytea not null,
    written_at timestamptz not null default now(),
    primary key (type_name, id, seq_no),
    unique (type_name, position)
  )`;
// A multi-row INSERT: the payloads travel as one bytea with each row's start and length, as
// arrays of bytea do not pass through postgres.js.
const RAW_INSERT = `insert into raw_events (type_name, id, seq_no, position, bytes)
  select $1, u.id, u.seq_no, u.position, substring($5::bytea from u.start for u.length)
  from unnest($2::text[], $3::bigint[], $4::bigint[], $6::integer[], $7::integer[])
    as u(id, seq_no, position, start, length)`;

/** The parameters of RAW_INSERT for rows of TYPE. */
function rawInsertParams(
  rows: readonly { id: string; seqNo: number; position: number; bytes: Uint8Array }[],
): unknown[] {
  const packed = new Uint8Array(rows.reduce((n, r) => n + r.bytes.length, 0));
  const starts: number[] = [];
  const lengths: number[] = [];
  let at = 0;
  for (const row of rows) {
    packed.set(row.bytes, at);
    starts.push(at + 1);
    lengths.push(row.bytes.length);
    at += row.bytes.length;
  }
  return [
    TYPE,
    rows.map((r) => r.id),
    rows.map((r) => r.seqNo),
    rows.map((r) => r.position),
    packed,
    starts,
    lengths,
  ];
}

/** The state of a ladder run: how many entities exist and the last seqNo of touched ones. */
class Ladder {
  entities = 0;
  rawPosition = 0;
  readonly seqNos = new Map<string, number>();
  readonly spawned = new Set<string>();
  readonly random = randoms(15);
  constructor(readonly target: SqlTarget) {}

  seqNoOf(entity: number): number {
    return this.seqNos.get(idOf(entity)) ?? EVENTS_PER_ENTITY;
  }

  /** A random existing entity, never returned for spawning before when `fresh`. */
  pick(options: { fresh?: boolean; snapshot?: boolean } = {}): number {
    // A fresh entity when one is found in 100 tries; a small log has fewer than the samples.
    for (let tries = 0;; tries++) {
      const fresh = options.fresh === true && tries < 100;
      let entity = Math.floor(this.random() * this.entities);
      if (options.snapshot !== undefined) {
        entity -= entity % SNAPSHOT_EVERY;
        if (!options.snapshot) entity += 1 + (entity % (SNAPSHOT_EVERY - 1));
        if (entity >= this.entities) continue;
      }
      const id = idOf(entity);
      if (fresh && (this.spawned.has(id) || this.seqNos.has(id))) continue;
      if (fresh) this.spawned.add(id);
      return entity;
    }
  }
}

/** Grows the library's log and raw_events to `events` events; returns both fill rates. */
async function grow(
  ladder: Ladder,
  events: number,
  concurrency: number,
): Promise<{ library: number; raw: number; seconds: number; rawSeconds: number }> {
  const { eventLog, snapshotStore, raw } = ladder.target;
  const from = ladder.entities;
  const to = Math.ceil(events / EVENTS_PER_ENTITY);
  if (to <= from) return { library: NaN, raw: NaN, seconds: 0, rawSeconds: 0 };
  const count = (to - from) * EVENTS_PER_ENTITY;
  let next = from;
  const started = performance.now();
  let reported = started;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < to) {
      const entity = next++;
      const batch = Array.from({ length: EVENTS_PER_ENTITY }, (_, i) => eventBytes(entity, i + 1));
      await eventLog.persist(TYPE, idOf(entity), null, batch);
      if (entity % SNAPSHOT_EVERY === 0) {
        const state = batch.slice(0, SNAPSHOT_AT).reduce(
          (s, b) => account.handleEvent(s, binarize.eventFromBytes(b)),
          0,
        );
        await snapshotStore.save(TYPE, idOf(entity), SNAPSHOT_AT, binarize.stateToBytes(state));
      }
      if (performance.now() - reported > 10_000) {
        reported = performance.now();
        const done = (entity - from) * EVENTS_PER_ENTITY;
        console.log(`  … ${size(done)} of ${size(count)} events persisted`);
      }
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const rawStarted = performance.now();
  const chunk = 10_000 / EVENTS_PER_ENTITY;
  for (let first = from; first < to; first += chunk) {
    const last = Math.min(to, first + chunk);
    const rows = [];
    for (let entity = first; entity < last; entity++) {
      for (let seqNo = 1; seqNo <= EVENTS_PER_ENTITY; seqNo++) {
        rows.push({
          id: idOf(entity),
          seqNo,
          position: ++ladder.rawPosition,
          bytes: eventBytes(entity, seqNo),
        });
      }
    }
    await raw.rows(RAW_INSERT, rawInsertParams(rows));
  }
  const rawSeconds = (performance.now() - rawStarted) / 1000;
  ladder.entities = to;
  return { library: count / seconds, raw: count / rawSeconds, seconds, rawSeconds };
}

/** Sequential appends of one event each to random entities: library, then raw. */
async function sequentialAppends(ladder: Ladder, count: number): Promise<[number, number]> {
  const { eventLog, raw } = ladder.target;
  const library = await rateOf(count, 1, async () => {
    const entity = ladder.pick();
    const id = idOf(entity);
    const last = ladder.seqNoOf(entity);
    ladder.seqNos.set(id, await eventLog.persist(TYPE, id, last, [eventBytes(entity, last + 1)]));
  });
  const rawSeqNos = new Map<string, number>();
  const rawRate = await rateOf(count, 1, async () => {
    const entity = ladder.pick();
    const id = idOf(entity);
    const seq = (rawSeqNos.get(id) ?? EVENTS_PER_ENTITY) + 1;
    rawSeqNos.set(id, seq);
    await raw.rows(
      `insert into raw_events (type_name, id, seq_no, position, bytes)
        values ($1, $2, $3, $4, $5)`,
      [TYPE, id, seq, ++ladder.rawPosition, eventBytes(entity, seq)],
    );
  });
  await forgetRawAppends(ladder, rawSeqNos);
  return [library, rawRate];
}

// The raw appends go to raw_events' entities' tails; removing them keeps raw_events the same
// rows as the library's log for the next size's fill and disk figures.
async function forgetRawAppends(ladder: Ladder, seqNos: Map<string, number>) {
  await ladder.target.raw.rows(
    `delete from raw_events where type_name = $1 and id = any($2::text[]) and seq_no > $3`,
    [TYPE, [...seqNos.keys()], EVENTS_PER_ENTITY],
  );
}

/** 64 writers at once, each appending `perWriter` events to random entities. */
async function concurrentAppends(
  ladder: Ladder,
  writers: number,
  perWriter: number,
): Promise<[number, number]> {
  const { eventLog, raw } = ladder.target;
  const total = writers * perWriter;
  // Each writer owns its entities, so two writers never race for one entity's next seqNo; a
  // small log gives each writer fewer entities than appends, and it goes round them.
  const each = Math.max(1, Math.min(perWriter, Math.floor(ladder.entities / writers)));
  const owned = Array.from({ length: writers }, () => [] as number[]);
  const taken = new Set<number>();
  for (const list of owned) {
    while (list.length < each) {
      const entity = ladder.pick();
      if (!taken.has(entity)) {
        taken.add(entity);
        list.push(entity);
      }
    }
  }
  const started = performance.now();
  await Promise.all(owned.map(async (entities) => {
    for (let i = 0; i < perWriter; i++) {
      const entity = entities[i % entities.length]!;
      const id = idOf(entity);
      const last = ladder.seqNoOf(entity);
      ladder.seqNos.set(id, await eventLog.persist(TYPE, id, last, [eventBytes(entity, last + 1)]));
    }
  }));
  const library = total / ((performance.now() - started) / 1000);

  // The raw writers queue their rows; up to two multi-row INSERTs are in flight (as
  // bench/_sql_baseline.ts does), each write resolved when its INSERT committed.
  type Queued = { row: [string, number, Uint8Array]; done: () => void; fail: (e: unknown) => void };
  let queue: Queued[] = [];
  let inFlight = 0;
  const flush = () => {
    while (inFlight < 2 && queue.length > 0) {
      const batch = queue;
      queue = [];
      inFlight++;
      raw.rows(
        RAW_INSERT,
        rawInsertParams(batch.map((q) => ({
          id: q.row[0],
          seqNo: q.row[1],
          position: ++ladder.rawPosition,
          bytes: q.row[2],
        }))),
      ).then(() => batch.forEach((q) => q.done()), (e) => batch.forEach((q) => q.fail(e)))
        .finally(() => {
          inFlight--;
          flush();
        });
    }
  };
  const rawSeqNos = new Map<string, number>();
  const rawStarted = performance.now();
  await Promise.all(owned.map(async (entities) => {
    for (let i = 0; i < perWriter; i++) {
      const entity = entities[i % entities.length]!;
      const id = idOf(entity);
      const seq = (rawSeqNos.get(id) ?? EVENTS_PER_ENTITY) + 1;
      rawSeqNos.set(id, seq);
      await new Promise<void>((done, fail) => {
        queue.push({ row: [id, seq, eventBytes(entity, seq)], done, fail });
        queueMicrotask(flush);
      });
    }
  }));
  const rawRate = total / ((performance.now() - rawStarted) / 1000);
  await forgetRawAppends(ladder, rawSeqNos);
  return [library, rawRate];
}

/** Cold spawns of random entities with or without a snapshot: library, then raw (ms). */
async function coldSpawns(ladder: Ladder, samples: number, snapshot: boolean) {
  const { eventLog, snapshotStore, raw } = ladder.target;
  const library = await latencies(samples, async () => {
    const entity = ladder.pick({ fresh: true, snapshot });
    const ref = await spawn(account, idOf(entity), {
      eventLog,
      binarize,
      ...(snapshot ? { snapshotStore } : {}),
    });
    await ref.stop();
  });
  const rawLatency = await latencies(samples, async () => {
    const entity = ladder.pick({ fresh: true, snapshot });
    let from = 0;
    if (snapshot) {
      const rows = await raw.rows(
        `select seq_no, bytes from ${SNAPSHOTS} where type_name = $1 and id = $2
          order by seq_no desc limit 1`,
        [TYPE, idOf(entity)],
      );
      from = Number(rows[0]![0]);
    }
    const rows = await raw.rows(
      `select seq_no, bytes from ${EVENTS} where type_name = $1 and id = $2 and seq_no > $3
        order by seq_no`,
      [TYPE, idOf(entity), from],
    );
    if (rows.length === 0 && !snapshot) throw new Error(`No events of ${idOf(entity)}`);
  });
  return { library, raw: rawLatency };
}

/** lastSeqNo of random entities: library, then raw (ms). */
async function lastSeqNos(ladder: Ladder, samples: number) {
  const { eventLog, raw } = ladder.target;
  const library = await latencies(samples, () => eventLog.lastSeqNo(TYPE, idOf(ladder.pick())));
  const rawLatency = await latencies(samples, () =>
    raw.rows(
      `select seq_no from ${EVENTS} where type_name = $1 and id = $2 order by seq_no desc limit 1`,
      [TYPE, idOf(ladder.pick())],
    ));
  return { library, raw: rawLatency };
}

/** The head position of the library's log. */
async function head(ladder: Ladder): Promise<number> {
  const rows = await ladder.target.raw.rows(
    `select coalesce(max(position), 0) from ${EVENTS} where type_name = $1`,
    [TYPE],
  );
  return Number(rows[0]![0]);
}

/** A raw keyset-paged read of the positions from `from` (inclusive); rows/s. */
async function rawRead(ladder: Ladder, from: number, upTo: number): Promise<number> {
  const started = performance.now();
  let count = 0;
  let after = from - 1;
  while (after < upTo) {
    const rows = await ladder.target.raw.rows(
      `select id, seq_no, position, bytes, version, written_at, command_id, correlation_id,
          causation_id, headers
        from ${EVENTS} where type_name = $1 and position > $2 order by position limit 1000`,
      [TYPE, after],
    );
    if (rows.length === 0) break;
    count += rows.length;
    after = Number(rows[rows.length - 1]![2]);
  }
  return count / ((performance.now() - started) / 1000);
}

/** A finite eventsByType over the last `span` positions: library, then raw (events/s). */
async function tailRead(ladder: Ladder, span: number): Promise<[number, number]> {
  const last = await head(ladder);
  const from = Math.max(1, last - span + 1);
  const started = performance.now();
  let count = 0;
  for await (const _ of ladder.target.eventLog.eventsByType(TYPE, from)) count++;
  const library = count / ((performance.now() - started) / 1000);
  return [library, await rawRead(ladder, from, last)];
}

/** A new projection over every event: library events/s and seconds, then raw events/s. */
async function catchUp(ladder: Ladder, round: number) {
  const last = await head(ladder);
  let count = 0;
  const projection = new Projection(`scale-${round < 0 ? "warm-up" : round}`, {
    typeName: TYPE,
    eventLog: ladder.target.eventLog,
    binarize,
    offsetStore: ladder.target.offsetStore,
    batchSize: 1000,
    handleBatch: (envelopes) => {
      count += envelopes.length;
    },
  });
  const started = performance.now();
  await projection.run();
  while ((projection.state().offset ?? 0) < last) {
    const error = projection.state().lastError;
    if (error) throw error;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const seconds = (performance.now() - started) / 1000;
  await projection.stop();
  return { library: count / seconds, seconds, raw: await rawRead(ladder, 1, last) };
}

/** One relation's size on disk, with its TOAST table. */
interface Relation {
  name: string;
  bytes: number;
}

/** The sizes of a table, its TOAST and each of its indexes. */
async function relations(raw: RawSql, table: string): Promise<Relation[]> {
  const rows = await raw.rows(
    `select 'table ' || $1::text, pg_relation_size($1::text::regclass)
        + coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0)
      from pg_class c where c.oid = $1::text::regclass
    union all
    select 'index ' || i.indexrelid::regclass::text, pg_relation_size(i.indexrelid)
      from pg_index i where i.indrelid = $1::text::regclass`,
    [table],
  );
  return rows.map(([name, size]) => ({ name: String(name), bytes: Number(size) }));
}

/** Bytes on disk per event of the library's log and of raw_events, and the payload per event. */
async function disk(ladder: Ladder) {
  const { raw } = ladder.target;
  await raw.rows(`checkpoint`).catch(() => {});
  const [[count, payload]] = (await raw.rows(
    `select count(*), coalesce(sum(octet_length(bytes)), 0) from ${EVENTS}`,
  )) as [[unknown, unknown]];
  const [[rawCount]] = (await raw.rows(`select count(*) from raw_events`)) as [[unknown]];
  return {
    events: Number(count),
    payload: Number(payload) / Number(count),
    library: await relations(raw, EVENTS),
    snapshots: await relations(raw, SNAPSHOTS),
    raw: await relations(raw, "raw_events"),
    rawEvents: Number(rawCount),
  };
}

/** The measures of one round at one size. */
type Measured = Omit<SqlSizeResult, "events" | "fill" | "disk" | "measuredUpTo">;

/** One round of every measure but the fill and the disk. */
async function measure(
  ladder: Ladder,
  settings: {
    samples: number;
    sequential: number;
    writers: number;
    perWriter: number;
    tail: number;
  },
  round: number,
): Promise<Measured> {
  const { samples, sequential, writers, perWriter, tail } = settings;
  return {
    sequential: await sequentialAppends(ladder, sequential),
    concurrent: await concurrentAppends(ladder, writers, perWriter),
    spawn: await coldSpawns(ladder, samples, false),
    spawnSnapshot: await coldSpawns(ladder, samples, true),
    lastSeqNo: await lastSeqNos(ladder, samples),
    tail: await tailRead(ladder, tail),
    catchUp: await catchUp(ladder, round),
  };
}

/** The median of each figure over the rounds. */
function medianOf(rounds: readonly Measured[]): Measured {
  const m = (pick: (r: Measured) => number) => median(rounds.map(pick));
  const pair = (pick: (r: Measured) => [number, number]): [number, number] => [
    m((r) => pick(r)[0]),
    m((r) => pick(r)[1]),
  ];
  type Timed = { library: { p50: number; p99: number }; raw: { p50: number; p99: number } };
  const timed = (pick: (r: Measured) => Timed): Timed => ({
    library: { p50: m((r) => pick(r).library.p50), p99: m((r) => pick(r).library.p99) },
    raw: { p50: m((r) => pick(r).raw.p50), p99: m((r) => pick(r).raw.p99) },
  });
  return {
    sequential: pair((r) => r.sequential),
    concurrent: pair((r) => r.concurrent),
    spawn: timed((r) => r.spawn),
    spawnSnapshot: timed((r) => r.spawnSnapshot),
    lastSeqNo: timed((r) => r.lastSeqNo),
    tail: pair((r) => r.tail),
    catchUp: {
      library: m((r) => r.catchUp.library),
      seconds: m((r) => r.catchUp.seconds),
      raw: m((r) => r.catchUp.raw),
    },
  };
}

/** Runs the ladder on `target` over the `sizes` (events). */
async function climb(target: SqlTarget, flags: Map<string, string>, sizes: number[]) {
  const samples = intFlag(flags, "samples", 500);
  const sequential = intFlag(flags, "sequential", 1000);
  const writers = intFlag(flags, "writers", 64);
  const perWriter = intFlag(flags, "per-writer", 50);
  const fillConcurrency = intFlag(flags, "fill-concurrency", 256);
  const tail = intFlag(flags, "tail", 100_000);
  const roundCount = intFlag(flags, "rounds", 3);
  const settings = { samples, sequential, writers, perWriter, tail };
  console.log(target.describe);
  const ladder = new Ladder(target);
  await target.raw.rows(RAW_TABLE);
  const results: SqlSizeResult[] = [];
  for (const events of sizes) {
    console.log(`\n## ${size(events)} events (${size(events / EVENTS_PER_ENTITY)} entities)`);
    const fill = await grow(ladder, events, fillConcurrency);
    console.log(
      `fill to ${size(events)}: library ${cell(fill.library)} events/s (${
        fill.seconds.toFixed(1)
      } s), raw multi-row INSERT ${cell(fill.raw)} rows/s (${fill.rawSeconds.toFixed(1)} s)`,
    );
    // Settle: let the fill's dirty pages and autovacuum pass before timing.
    await target.raw.rows(`vacuum analyze ${EVENTS}`);
    await target.raw.rows(`vacuum analyze raw_events`);
    // Disk is read before the measures append: the log and raw_events then hold the same rows.
    const space = await disk(ladder);
    // The first size also warms the JIT, the pool's prepared statements and the caches, with
    // one untimed round.
    if (results.length === 0) {
      await measure(ladder, { ...settings, samples: 50, sequential: 100, perWriter: 10 }, -1);
    }
    const rounds: Measured[] = [];
    for (let round = 0; round < roundCount; round++) {
      rounds.push(await measure(ladder, settings, results.length * roundCount + round));
    }
    const result: SqlSizeResult = {
      events,
      fill,
      ...medianOf(rounds),
      disk: space,
      measuredUpTo: await head(ladder),
    };
    results.push(result);
    printSize(result, writers, Math.min(tail, events));
  }
  printSqlSummary(target.name, results);
}

function printSize(r: SqlSizeResult, writers: number, tail: number) {
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  const ms = (x: { p50: number; p99: number }) => `${cell(x.p50, "ms")} / ${cell(x.p99, "ms")}`;
  printTable(
    `${size(r.events)} events (${size(r.measuredUpTo)} when the measures ended): rates (per ` +
      `second) and latencies (ms, p50 / p99)`,
    [
      "measure",
      "library",
      "raw driver",
      "library ÷ raw",
    ],
    [
      ["append, sequential", cell(r.sequential[0]), cell(r.sequential[1]), ratio(...r.sequential)],
      [
        `append, ${writers} writers`,
        cell(r.concurrent[0]),
        cell(r.concurrent[1]),
        ratio(...r.concurrent),
      ],
      [
        "cold spawn, 10 events",
        ms(r.spawn.library),
        ms(r.spawn.raw),
        ratio(r.spawn.library.p50, r.spawn.raw.p50),
      ],
      [
        "cold spawn, snapshot + 2 events",
        ms(r.spawnSnapshot.library),
        ms(r.spawnSnapshot.raw),
        ratio(r.spawnSnapshot.library.p50, r.spawnSnapshot.raw.p50),
      ],
      [
        "lastSeqNo",
        ms(r.lastSeqNo.library),
        ms(r.lastSeqNo.raw),
        ratio(r.lastSeqNo.library.p50, r.lastSeqNo.raw.p50),
      ],
      [`eventsByType, last ${size(tail)}`, cell(r.tail[0]), cell(r.tail[1]), ratio(...r.tail)],
      [
        `projection catch-up (${r.catchUp.seconds.toFixed(1)} s)`,
        cell(r.catchUp.library),
        cell(r.catchUp.raw),
        ratio(r.catchUp.library, r.catchUp.raw),
      ],
    ],
  );
  const d = r.disk;
  const rows = [...d.library, ...d.snapshots, ...d.raw].map((rel) => {
    const per = rel.name.includes("snapshots")
      ? d.events
      : rel.name.includes("raw_events")
      ? d.rawEvents
      : d.events;
    return [rel.name, bytes(rel.bytes), (rel.bytes / per).toFixed(1)];
  });
  const total = (list: Relation[], per: number) => list.reduce((s, x) => s + x.bytes, 0) / per;
  rows.push(["log in all (events table and indexes)", "", total(d.library, d.events).toFixed(1)]);
  rows.push(["raw_events in all", "", total(d.raw, d.rawEvents).toFixed(1)]);
  rows.push(["payload (event bytes)", "", d.payload.toFixed(1)]);
  printTable(`${size(r.events)} events: disk (${size(d.events)} events in the log)`, [
    "relation",
    "size",
    "bytes per event",
  ], rows);
}

function sizesOf(flags: Map<string, string>, fallback: string): number[] {
  return (flags.get("sizes") ?? fallback).split(",").map(parseSize);
}

/** Checks the folder has room for the run, and says how much it will use. */
function announceDisk(folder: string, largest: number, perEvent: number, extra: number) {
  const needed = largest * perEvent + extra;
  const stats = statfsSync(folder);
  const free = stats.bavail * stats.bsize;
  console.log(
    `This run writes up to ${bytes(needed)} under ${folder} (${bytes(free)} free) and removes it ` +
      `when it ends.`,
  );
  if (needed > free * 0.9) {
    throw new Error(
      `Not enough disk: ${bytes(needed)} needed under ${folder}, ${bytes(free)} free`,
    );
  }
}

/** The PostgreSQL ladder: a temporary server with fsync on. */
export const postgresLadder = {
  async run(flags: Map<string, string>) {
    const sizes = sizesOf(flags, "10k,100k,1M,10M");
    const dir = flags.get("dir") ?? tmpdir();
    // The log and raw_events (about 250 and 235 B per event), snapshots, and the WAL, which
    // max_wal_size keeps near 4 GB.
    const largest = Math.max(...sizes);
    announceDisk(dir, largest, 500, Math.min(4 * 2 ** 30, largest * 1000));
    const sharedBuffers = flags.get("shared-buffers") ?? "1GB";
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = dir;
    const server = await startPostgres({
      fsync: true,
      settings: { shared_buffers: sharedBuffers, max_wal_size: "4GB" },
    }).finally(() => {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
    });
    const sql = postgres(server.url, { max: 10, onnotice: () => {} });
    try {
      const eventLog = new PostgresEventLog(sql);
      await eventLog.setup();
      const offsetStore = new PostgresOffsetStore(sql);
      await offsetStore.setup();
      const version = (await sql`select version()`.values())[0]?.[0];
      await climb(
        {
          name: "PostgreSQL",
          eventLog,
          snapshotStore: new PostgresSnapshotStore(sql),
          offsetStore,
          raw: {
            rows: (text, params = []) =>
              sql.unsafe(text, params as never[], { prepare: true }).values(),
          },
          describe: `${String(version).split(",")[0]}, fsync on, synchronous_commit on, ` +
            `shared_buffers ${sharedBuffers}, max_wal_size 4GB; postgres.js pool of 10`,
          close: () => eventLog.close(),
        },
        flags,
        sizes,
      );
      await eventLog.close();
    } finally {
      await sql.end({ timeout: 5 });
      await server.stop();
    }
  },
};

/** The PGlite ladder: a data folder on disk. */
export const pgliteLadder = {
  async run(flags: Map<string, string>) {
    const sizes = sizesOf(flags, "10k,100k,1M");
    const dir = flags.get("dir") ?? tmpdir();
    announceDisk(dir, Math.max(...sizes), 600, 0);
    const dataDir = mkdtempSync(join(dir, "eventsourced-pglite-"));
    const db = await PGlite.create({ dataDir });
    try {
      const eventLog = new PgliteEventLog(db);
      await eventLog.setup();
      const offsetStore = new PgliteOffsetStore(db);
      await offsetStore.setup();
      await climb(
        {
          name: "PGlite",
          eventLog,
          snapshotStore: new PgliteSnapshotStore(db),
          offsetStore,
          raw: {
            rows: async (text, params = []) =>
              (await db.query<unknown[]>(text, params, { rowMode: "array" })).rows,
          },
          describe: `PGlite with a data folder on disk`,
          close: () => eventLog.close(),
        },
        flags,
        sizes,
      );
      await eventLog.close();
    } finally {
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
