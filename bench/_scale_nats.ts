// The NATS JetStream scale ladder of bench/scale.ts (issue 15): one stream of one entity type
// grown to 10k, 100k and 1M entity subjects (file storage, nats-server as installed), and at each
// size NatsEventLog over WebSocket beside the raw nats.js client (own WebSocket connection)
// doing the same work in the same run: publish with the expected-last-subject-sequence check
// (sequential and 64 in flight, new and existing entities); the spawn of a cold random existing
// entity right after a server restart and again once the server has loaded its blocks (raw: an
// ordered consumer on the subject); the spawn of entities of 5 persists spread over the stream;
// lastSeqNo (raw: a direct get); the replay of one entity of 1 000 events spread over the stream
// and of one whose events were written together; and the server's memory (/varz) and restart
// time (until a stream info succeeds) from its own monitoring.
//
//   flock /tmp/scale-bench.lock npx deno run -A bench/scale.ts --backend nats \
//     [--sizes 10k,100k,1M] [--samples 200] [--writes 1000] [--dir /var/tmp] [--transport tcp]
//
// --transport tcp connects both clients over TCP instead (the default is WebSocket).

import { headers, type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { jetstream, type JetStreamClient, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import { jsonBinarize, spawn } from "../mod.ts";
import { NatsEventLog } from "../adapters/nats/mod.ts";
import { startNatsServer } from "../tests/_servers/nats.ts";
import { counter, type CounterEvent } from "../tests/_counter.ts";
import { intFlag } from "./_args.ts";
import { runtimeName } from "./_stats.ts";
import { bytes, cell, latencies, parseSize, printTable, rateOf, size } from "./_scale_report.ts";
import {
  denseId,
  diskUse,
  entityId,
  EVENT,
  fill,
  MULTI_ENTITIES,
  MULTI_EVENTS,
  multiId,
  REPLAY_EVENTS,
  replayId,
  restart,
  serverState,
  STREAM,
  subjectOf,
  TYPE,
} from "./_scale_nats_server.ts";
import { execSync } from "node:child_process";
import { loadavg } from "node:os";

// Stored bytes per one-event message (subject, headers, payload, index) with room to spare.
const DISK_PER_MESSAGE = 400;
const CONCURRENCY = 64;

interface Row {
  readonly name: string;
  readonly adapter: string;
  readonly raw: string;
  readonly unit: string;
}

interface SizeResult {
  readonly size: number;
  readonly figures: Map<string, { adapter: number; raw: number }>;
  readonly fillSeconds: number;
  readonly fillRate: number;
  readonly memBefore: number;
  readonly memAfter: number;
  readonly disk: number;
  readonly restartMs: number;
  readonly load: string;
}

function load(): string {
  return loadavg().map((l) => l.toFixed(2)).join(" ");
}

/** The raw client's version of each operation, on its own connection. */
class Raw {
  readonly js: JetStreamClient;
  constructor(readonly nc: NatsConnection, readonly jsm: JetStreamManager) {
    this.js = jetstream(nc, { timeout: 10_000 });
  }

  async publish(subject: string, expected: number, seqNo: number): Promise<number> {
    const h = headers();
    h.set("Nats-Expected-Last-Subject-Sequence", String(expected));
    h.set("Eventsourced-Seq-No", String(seqNo));
    return (await this.js.publish(subject, EVENT, { headers: h })).seq;
  }

  /** The last message of the subject by direct get: its stream sequence and seqNo. */
  async last(subject: string): Promise<{ seq: number; seqNo: number }> {
    const msg = await this.jsm.direct.getMessage(STREAM, { last_by_subj: subject });
    if (msg === null) throw new Error(`no message on ${subject}`);
    return { seq: msg.seq, seqNo: Number(msg.header.get("Eventsourced-Seq-No")) };
  }

  /** An existing entity's next event: find its head, publish with the check. */
  async append(subject: string): Promise<number> {
    const head = await this.last(subject);
    return await this.publish(subject, head.seq, head.seqNo + 1);
  }

  /** Reads every message of `subject` with an ordered consumer, as the adapter's reads do. */
  async read(subject: string): Promise<number> {
    const consumer = await this.js.consumers.get(STREAM, { filter_subjects: subject });
    const messages = await consumer.consume({ max_messages: 1_024 });
    let count = 0;
    for await (const msg of messages) {
      count++;
      if (msg.info.pending === 0) break;
    }
    messages.stop();
    await consumer.delete().catch(() => {});
    return count;
  }
}

async function collect(stream: ReadableStream<unknown>): Promise<number> {
  let count = 0;
  for await (const _ of stream) count++;
  return count;
}

// Entities of the fill that a measure has read or written already, at any size: a cold spawn
// finds no head the log remembers, and a persist to an existing entity knows its seqNo is 1.
const used = new Set<number>();

/** Picks distinct random entities of the fill (below `total`) that no measure touched yet. */
function picker(total: number): () => string {
  return () => {
    if (used.size >= total * 0.9) throw new Error(`--writes too large for ${total} entities`);
    for (;;) {
      const i = Math.floor(Math.random() * total);
      if (!used.has(i)) {
        used.add(i);
        return entityId(i);
      }
    }
  };
}

async function measure(
  log: NatsEventLog,
  raw: Raw,
  total: number,
  samples: number,
  writes: number,
): Promise<Map<string, { adapter: number; raw: number }>> {
  const figures = new Map<string, { adapter: number; raw: number }>();
  const pick = picker(total);
  const binarize = jsonBinarize<CounterEvent, number>();
  // Warm both connections (JetStream info, first requests) before any timing.
  await log.lastSeqNo(TYPE, entityId(0));
  await raw.last(subjectOf(entityId(0)));

  // Right after the restart: the server has loaded none of the stream's blocks yet.
  const spawnA = await latencies(samples, async () => {
    const ref = await spawn(counter, pick(), { eventLog: log, binarize });
    await ref.stop();
  });
  const spawnR = await latencies(samples, () => raw.read(subjectOf(pick())));
  figures.set("spawn p50", { adapter: spawnA.p50, raw: spawnR.p50 });
  figures.set("spawn p99", { adapter: spawnA.p99, raw: spawnR.p99 });
  // Entities of MULTI_EVENTS persists spread over the stream: half for each client.
  const half = MULTI_ENTITIES / 2;
  const multiA = await latencies(half, async (j) => {
    const ref = await spawn(counter, multiId(total, j), { eventLog: log, binarize });
    await ref.stop();
  });
  const multiR = await latencies(half, async (j) => {
    const n = await raw.read(subjectOf(multiId(total, half + j)));
    if (n !== MULTI_EVENTS) throw new Error(`raw read ${n} of ${MULTI_EVENTS} events`);
  });
  figures.set(`spawn p50, ${MULTI_EVENTS} persists`, { adapter: multiA.p50, raw: multiR.p50 });
  figures.set(`spawn max, ${MULTI_EVENTS} persists`, { adapter: multiA.p99, raw: multiR.p99 });
  const directR = await latencies(samples, () => raw.last(subjectOf(pick())));
  const lastA = await latencies(samples, () => log.lastSeqNo(TYPE, pick()));
  figures.set("lastSeqNo p50", { adapter: lastA.p50, raw: directR.p50 });
  figures.set("lastSeqNo p99", { adapter: lastA.p99, raw: directR.p99 });

  // Replay of the entity whose events are spread over this size's fill, and of the one whose
  // events were written together: best of 3 each.
  for (const [name, id] of [["replay", replayId(total)], ["replay dense", denseId(total)]]) {
    let replayA = Infinity;
    let replayR = Infinity;
    for (let r = 0; r < 3; r++) {
      let start = performance.now();
      const n = await collect(log.eventsById(TYPE, id!, 1));
      if (n !== REPLAY_EVENTS) throw new Error(`replay read ${n} events, not ${REPLAY_EVENTS}`);
      replayA = Math.min(replayA, performance.now() - start);
      start = performance.now();
      const m = await raw.read(subjectOf(id!));
      if (m !== REPLAY_EVENTS) throw new Error(`raw replay read ${m} messages`);
      replayR = Math.min(replayR, performance.now() - start);
    }
    figures.set(`${name} ms`, { adapter: replayA, raw: replayR });
    figures.set(`${name} events/s`, {
      adapter: REPLAY_EVENTS / (replayA / 1000),
      raw: REPLAY_EVENTS / (replayR / 1000),
    });
  }

  // The same spawns again, now that the measures above have read every block of the stream:
  // the first spawns after the restart also pay for loading the server's blocks from disk.
  const warmA = await latencies(samples, async () => {
    const ref = await spawn(counter, pick(), { eventLog: log, binarize });
    await ref.stop();
  });
  const warmR = await latencies(samples, () => raw.read(subjectOf(pick())));
  figures.set("spawn p50, blocks loaded", { adapter: warmA.p50, raw: warmR.p50 });
  figures.set("spawn p99, blocks loaded", { adapter: warmA.p99, raw: warmR.p99 });

  const fresh = `n${total}-${Date.now()}`;
  const event = [EVENT];
  figures.set("persist new, sequential", {
    adapter: await rateOf(writes, 1, (i) => log.persist(TYPE, `${fresh}-a${i}`, null, event)),
    raw: await rateOf(writes, 1, (i) => raw.publish(subjectOf(`${fresh}-r${i}`), 0, 1)),
  });
  figures.set("persist existing, sequential", {
    adapter: await rateOf(writes, 1, () => log.persist(TYPE, pick(), 1, event)),
    raw: await rateOf(writes, 1, () => raw.append(subjectOf(pick()))),
  });
  const many = writes * 2;
  figures.set(`persist new, ${CONCURRENCY} in flight`, {
    adapter: await rateOf(
      many,
      CONCURRENCY,
      (i) => log.persist(TYPE, `${fresh}-c${i}`, null, event),
    ),
    raw: await rateOf(many, CONCURRENCY, (i) => raw.publish(subjectOf(`${fresh}-d${i}`), 0, 1)),
  });
  figures.set(`persist existing, ${CONCURRENCY} in flight`, {
    adapter: await rateOf(many, CONCURRENCY, () => log.persist(TYPE, pick(), 1, event)),
    raw: await rateOf(many, CONCURRENCY, () => raw.append(subjectOf(pick()))),
  });
  return figures;
}

const KINDS: Record<string, "rate" | "ms"> = {
  "spawn p50": "ms",
  "spawn p99": "ms",
  "spawn p50, 5 persists": "ms",
  "spawn max, 5 persists": "ms",
  "lastSeqNo p50": "ms",
  "lastSeqNo p99": "ms",
  "replay ms": "ms",
  "replay dense ms": "ms",
  "spawn p50, blocks loaded": "ms",
  "spawn p99, blocks loaded": "ms",
};

function rowsOf(figures: Map<string, { adapter: number; raw: number }>): Row[] {
  return [...figures].map(([name, { adapter, raw }]) => ({
    name,
    adapter: cell(adapter, KINDS[name] ?? "rate"),
    raw: cell(raw, KINDS[name] ?? "rate"),
    unit: KINDS[name] === "ms" ? "ms" : name.startsWith("replay") ? "events/s" : "persists/s",
  }));
}

/** The ladder bench/scale.ts runs for `--backend nats`. */
export const natsLadder = {
  async run(flags: Map<string, string>): Promise<void> {
    const sizes = (flags.get("sizes") ?? "10k,100k,1M").split(",").map(parseSize)
      .sort((a, b) => a - b);
    const samples = intFlag(flags, "samples", 200);
    const writes = intFlag(flags, "writes", 1_000);
    const transport = flags.get("transport") ?? "ws";
    if (transport !== "ws" && transport !== "tcp") throw new Error("--transport is ws or tcp");
    const largest = sizes[sizes.length - 1]!;
    // The fills, the replay entities and the writes of every size.
    const messages = largest +
      sizes.length *
        (2 * REPLAY_EVENTS + MULTI_ENTITIES * MULTI_EVENTS + writes * 10 + 2 * samples);
    const version = execSync("nats-server --version").toString().trim();
    console.log(
      `${version}; sizes ${sizes.map(size).join(", ")}; about ${
        bytes(messages * DISK_PER_MESSAGE)
      } of disk in ${flags.get("dir") ?? "the temp folder"}, removed at the end`,
    );
    const server = await startNatsServer({
      own: true,
      monitor: true,
      ...(flags.has("dir") ? { parentDir: flags.get("dir")! } : {}),
    });
    const results: SizeResult[] = [];
    try {
      {
        const setupLog = await NatsEventLog.connect({ servers: server.wsUrl });
        await setupLog.setup();
        await setupLog.close();
      }
      let filled = 0;
      for (const target of sizes) {
        const started = performance.now();
        const written = await fill(server.tcpUrl!, filled, target);
        const fillSeconds = (performance.now() - started) / 1000;
        filled = target;
        const fillRate = written / fillSeconds;
        console.log(
          `\nfilled to ${size(target)} entities: ${written} messages in ${
            fillSeconds.toFixed(1)
          } s (${cell(fillRate)} msg/s), load ${load()}`,
        );
        const before = await serverState(server);
        const timing = await restart(server);
        const after = await serverState(server);
        const disk = diskUse(server.dir!);
        console.log(
          `restart: stop ${timing.stopMs.toFixed(0)} ms, process ready ${
            timing.readyMs.toFixed(0)
          } ms, JetStream answers after ${timing.jetStreamMs.toFixed(0)} ms; ${
            before.subjects ?? "?"
          } subjects, ${before.messages} messages, ${bytes(before.streamBytes)} stream, ${
            bytes(disk)
          } on disk; mem ${bytes(before.mem)} before, ${bytes(after.mem)} after restart`,
        );
        const open = () =>
          transport === "tcp"
            ? connect({ servers: server.tcpUrl! })
            : wsconnect({ servers: server.wsUrl });
        const logNc = await open();
        const log = new NatsEventLog(logNc);
        const rawNc = await open();
        const raw = new Raw(rawNc, await jetstreamManager(rawNc));
        let figures: Map<string, { adapter: number; raw: number }>;
        try {
          figures = await measure(log, raw, target, samples, writes);
        } finally {
          await logNc.close();
          await rawNc.close();
        }
        const memEnd = (await serverState(server)).mem;
        const result: SizeResult = {
          size: target,
          figures,
          fillSeconds,
          fillRate,
          memBefore: before.mem,
          memAfter: after.mem,
          disk,
          restartMs: timing.jetStreamMs,
          load: load(),
        };
        results.push(result);
        const rows = rowsOf(figures);
        printTable(
          `NATS over ${transport}, ${
            size(target)
          } entity subjects (${before.messages} messages), ${runtimeName()}, ${
            new Date().toISOString()
          }, load ${result.load}; server mem ${bytes(before.mem)} / ${
            bytes(after.mem)
          } after restart / ${bytes(memEnd)} after the measures`,
          ["", "NatsEventLog", "raw nats.js", "unit"],
          rows.map((r) => [r.name, r.adapter, r.raw, r.unit]),
        );
      }
      printSummary(results, transport);
    } finally {
      await server.dispose();
    }
  },
};

function printSummary(results: readonly SizeResult[], transport: string): void {
  const names = [...results[0]!.figures.keys()];
  const header = ["", ...results.map((r) => size(r.size))];
  const rows: string[][] = [];
  for (const name of names) {
    const kind = KINDS[name] ?? "rate";
    rows.push([
      `${name} (adapter)`,
      ...results.map((r) => cell(r.figures.get(name)!.adapter, kind)),
    ]);
    rows.push([`${name} (raw)`, ...results.map((r) => cell(r.figures.get(name)!.raw, kind))]);
  }
  rows.push(["fill s", ...results.map((r) => r.fillSeconds.toFixed(1))]);
  rows.push(["fill msg/s", ...results.map((r) => cell(r.fillRate))]);
  rows.push(["server mem", ...results.map((r) => bytes(r.memBefore))]);
  rows.push(["server mem after restart", ...results.map((r) => bytes(r.memAfter))]);
  rows.push(["restart until JetStream answers ms", ...results.map((r) => r.restartMs.toFixed(0))]);
  rows.push(["disk", ...results.map((r) => bytes(r.disk))]);
  rows.push(["load average", ...results.map((r) => r.load)]);
  printTable(
    `NATS summary over sizes (${transport}), ${runtimeName()}, ${new Date().toISOString()}`,
    header,
    rows,
  );
}
