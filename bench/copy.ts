// Copying a store to another backend (admin/copy_store.ts) beside a raw read of the source, in
// the same run on the same servers: draining eventsByType of every type, and (SQL sources) the
// bare driver selecting the same rows with the same columns in position order.
//
//   npx deno run -A bench/copy.ts [--events 20000] [--entities 200] [--types 2] [--runs 3]
//     [--sources pglite,postgres] [--targets postgres,nats] [--batch 500]
//
// Each source is filled once (events with metadata, written through importEvents); each run
// copies it into a fresh target (tables with a prefix of their own, or a stream of its own)
// with verification on, after an untimed warm-up copy. The summary gives the medians: the copy's
// events/s without and with the verification, the verification's own time, both raw reads, and
// the ratio of the copy's rate to the eventsByType read's.

import type { PersistedEvent } from "../mod.ts";
import { copyStore, type StoreAdmin } from "../admin/mod.ts";
import { intFlag, parseArgs } from "./_args.ts";
import { median, rate, runtimeName } from "./_stats.ts";
import { type BenchServers, startServers } from "./_copy_stores.ts";

const flags = parseArgs();
const events = intFlag(flags, "events", 20_000);
const entities = intFlag(flags, "entities", 200);
const typeCount = intFlag(flags, "types", 2);
const runs = intFlag(flags, "runs", 3);
const batchSize = intFlag(flags, "batch", 500);
const list = (name: string, fallback: string) =>
  (flags.get(name) ?? fallback).split(",") as ("pglite" | "postgres" | "nats")[];
const sources = list("sources", "pglite,postgres");
const targets = list("targets", "postgres,nats");

const encoder = new TextEncoder();

/** Writes `events` events over `entities` entities of `typeCount` types, as a busy app would. */
async function fill(admin: StoreAdmin): Promise<string[]> {
  const typeNames = Array.from({ length: typeCount }, (_, t) => `account${t}`);
  const perType = Math.ceil(events / typeCount);
  const started = Date.now();
  for (const typeName of typeNames) {
    const seqNos = new Map<string, number>();
    let batch: PersistedEvent[] = [];
    for (let i = 0; i < perType; i++) {
      const id = `${crypto.randomUUID()}`.slice(0, 8) + `-${i % entities}`;
      const key = `${i % entities}`;
      const seqNo = (seqNos.get(key) ?? 0) + 1;
      seqNos.set(key, seqNo);
      batch.push({
        typeName,
        id: `entity-${key}`,
        seqNo,
        position: i + 1,
        bytes: encoder.encode(JSON.stringify({ type: "deposited", cents: i, note: id })),
        version: 1,
        writtenAt: started + i,
        metadata: { commandId: crypto.randomUUID(), correlationId: `corr-${key}` },
      });
      if (batch.length === 1000) {
        await admin.importEvents(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await admin.importEvents(batch);
  }
  return typeNames;
}

async function drain(admin: StoreAdmin, typeNames: readonly string[]): Promise<number> {
  let read = 0;
  for (const typeName of typeNames) {
    for await (const _ of admin.eventLog.eventsByType(typeName, 1)) read++;
  }
  return read;
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

interface Row {
  readonly pair: string;
  readonly copy: number;
  readonly copyVerified: number;
  readonly verifyMs: number;
  readonly read: number;
  readonly raw: number | null;
}

async function measure(servers: BenchServers, from: string, to: string): Promise<Row> {
  const source = await servers.open(from as "pglite");
  const typeNames = await fill(source.admin);
  const total = typeNames.length * Math.ceil(events / typeCount);
  const copyRates: number[] = [], verifiedRates: number[] = [], verifyMs: number[] = [];
  const readRates: number[] = [], rawRates: number[] = [];
  for (let run = 0; run <= runs; run++) {
    const [read, readMs] = await timed(() => drain(source.admin, typeNames));
    if (read !== total) throw new Error(`Read ${read} events, expected ${total}`);
    let rawMs: number | null = null;
    if (source.rawRead !== undefined) {
      const [rows, ms] = await timed(async () => {
        let n = 0;
        for (const typeName of typeNames) n += await source.rawRead!(typeName);
        return n;
      });
      if (rows !== total) throw new Error(`Raw read ${rows} rows, expected ${total}`);
      rawMs = ms;
    }
    const target = await servers.open(to as "pglite");
    const report = await copyStore(source.admin, target.admin, { batchSize });
    if (report.copiedEvents !== total || report.verification?.ok !== true) {
      throw new Error(`Copy of ${report.copiedEvents} events, expected ${total}, verified`);
    }
    if (run === 0) continue; // warm-up
    const verifying = report.verification.elapsedMs;
    copyRates.push(total / ((report.elapsedMs - verifying) / 1000));
    verifiedRates.push(total / (report.elapsedMs / 1000));
    verifyMs.push(verifying);
    readRates.push(total / (readMs / 1000));
    if (rawMs !== null) rawRates.push(total / (rawMs / 1000));
    console.error(
      `${from} → ${to} run ${run}: copy ${rate(copyRates.at(-1)!)}/s, verify ${
        Math.round(verifying)
      } ms, eventsByType ${rate(readRates.at(-1)!)}/s${
        rawMs === null ? "" : `, raw select ${rate(rawRates.at(-1)!)}/s`
      }`,
    );
  }
  return {
    pair: `${from} → ${to}`,
    copy: median(copyRates),
    copyVerified: median(verifiedRates),
    verifyMs: median(verifyMs),
    read: median(readRates),
    raw: rawRates.length > 0 ? median(rawRates) : null,
  };
}

const servers = await startServers([...sources, ...targets]);
const rows: Row[] = [];
try {
  for (const from of sources) {
    for (const to of targets) rows.push(await measure(servers, from, to));
  }
} finally {
  await servers.close();
}
console.log(
  `\n${runtimeName()}, ${events} events of ${entities} entities × ${typeCount} types, batch ${batchSize}, median of ${runs} runs\n`,
);
console.log(
  "| source → target | copy events/s | with verification | verification | eventsByType events/s | raw select rows/s | copy / eventsByType |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const row of rows) {
  console.log(
    `| ${row.pair} | ${rate(row.copy)} | ${rate(row.copyVerified)} | ${
      Math.round(row.verifyMs)
    } ms | ${rate(row.read)} | ${row.raw === null ? "–" : rate(row.raw)} | ${
      (row.copy / row.read).toFixed(2)
    } |`,
  );
}
