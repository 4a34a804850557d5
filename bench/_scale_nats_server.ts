// The server side of the NATS scale ladder (bench/_scale_nats.ts): filling one stream with
// entity subjects as fast as raw nats.js pipelines allow, the server's own monitoring (/varz,
// /jsz), its disk use, and the time a restart takes until JetStream answers again.
// Run through: deno run -A bench/scale.ts --backend nats [--sizes 10k,100k,1M]

import { createInbox, headers, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { NatsTestServer } from "../tests/_servers/nats.ts";

/** The stream, subject prefix and type every ladder message goes to (the adapter's defaults). */
export const STREAM = "eventsourced";
export const TYPE = "counter";
/** A counter event as JSON, about the size of the events of bench/load.ts. */
export const EVENT = new TextEncoder().encode(JSON.stringify({ type: "increased", by: 1 }));
/** Events of the one entity replayed at each size, spread evenly over that size's fill. */
export const REPLAY_EVENTS = 1_000;
const IN_FLIGHT = 2_048;

/** Entities with `MULTI_EVENTS` events each at every size, spread over that size's fill. */
export const MULTI_ENTITIES = 100;
export const MULTI_EVENTS = 5;

/** The id of the `j`th entity with several events written during the fill up to `size`. */
export function multiId(size: number, j: number): string {
  return `multi-${size}-${j}`;
}

/** The subject of entity `id` (ids of the ladder need no token encoding). */
export function subjectOf(id: string): string {
  return `${STREAM}.${TYPE}.${id}`;
}

/** The id of the `i`th entity of the fill. */
export function entityId(i: number): string {
  return `e${i}`;
}

/** The id of the entity replayed at `size`, its events spread over that size's fill. */
export function replayId(size: number): string {
  return `replay-${size}`;
}

/** The id of the entity replayed at `size` whose events were written one after the other. */
export function denseId(size: number): string {
  return `dense-${size}`;
}

/**
 * Adds entities `from`..`to - 1` (one event each, published with expected last subject sequence
 * 0 as the adapter does for a new entity) and the `REPLAY_EVENTS` events of `replayId(to)`,
 * spread evenly among them, the events of the entities `multiId(to, j)` likewise, and at the end
 * the `REPLAY_EVENTS` events of `denseId(to)` one after the other. Plain publishes on one TCP connection whose acks come to one
 * inbox, at most `IN_FLIGHT` unacknowledged (a request per message costs the client more CPU
 * than the server needs to store it). Returns the messages written.
 */
export async function fill(tcpUrl: string, from: number, to: number): Promise<number> {
  const nc = await connect({ servers: tcpUrl });
  try {
    const total = to - from;
    const every = Math.max(1, Math.floor(total / REPLAY_EVENTS));
    const replaySubject = subjectOf(replayId(to));
    const inbox = createInbox();
    let outstanding = 0;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const decoder = new TextDecoder();
    const sub = nc.subscribe(inbox, {
      callback: (_error, msg) => {
        outstanding--;
        const text = decoder.decode(msg.data);
        if (text.includes('"error"')) failure ??= new Error(`fill publish: ${text}`);
        wake?.();
      },
    });
    const room = async (limit: number) => {
      while (outstanding > limit) await new Promise<void>((resolve) => wake = resolve);
      if (failure) throw failure;
    };
    const publish = async (subject: string, h: ReturnType<typeof headers>) => {
      await room(IN_FLIGHT);
      outstanding++;
      nc.publish(subject, EVENT, { headers: h, reply: inbox });
    };
    // One replay event after every `every` entities, so its events span the whole step; they
    // go in order over the one connection, so their seqNos stay in order.
    let replaySeqNo = 0;
    // The entities with several events: one of their events after every `multiEvery`
    // entities, entity after entity, so each one's events lie far apart in the stream.
    const multiTotal = MULTI_ENTITIES * MULTI_EVENTS;
    const multiEvery = Math.max(1, Math.floor(total / multiTotal));
    let multiDone = 0;
    const multiEvent = async () => {
      const j = multiDone % MULTI_ENTITIES;
      const m = headers();
      m.set("Eventsourced-Seq-No", String(Math.floor(multiDone / MULTI_ENTITIES) + 1));
      multiDone++;
      await publish(subjectOf(multiId(to, j)), m);
    };
    for (let k = 0; k < total; k++) {
      const h = headers();
      h.set("Nats-Expected-Last-Subject-Sequence", "0");
      h.set("Eventsourced-Seq-No", "1");
      await publish(subjectOf(entityId(from + k)), h);
      if (k % every === every - 1 && replaySeqNo < REPLAY_EVENTS) {
        const r = headers();
        r.set("Eventsourced-Seq-No", String(++replaySeqNo));
        await publish(replaySubject, r);
      }
      if (k % multiEvery === multiEvery - 1 && multiDone < multiTotal) await multiEvent();
    }
    while (multiDone < multiTotal) await multiEvent();
    // The dense entity: all its events together at the end of the step.
    for (let seqNo = 1; seqNo <= REPLAY_EVENTS; seqNo++) {
      const d = headers();
      d.set("Eventsourced-Seq-No", String(seqNo));
      await publish(subjectOf(denseId(to)), d);
    }
    while (replaySeqNo < REPLAY_EVENTS) {
      const r = headers();
      r.set("Eventsourced-Seq-No", String(++replaySeqNo));
      await publish(replaySubject, r);
    }
    await room(0);
    sub.unsubscribe();
    return total + 2 * REPLAY_EVENTS + multiTotal;
  } finally {
    await nc.close();
  }
}

/** What the server's monitoring says of itself and the stream. */
export interface ServerState {
  /** Resident memory of the process, from /varz `mem`. */
  readonly mem: number;
  readonly messages: number;
  readonly streamBytes: number;
  /** Subjects in the stream (/jsz with stream details). */
  readonly subjects: number | undefined;
}

/** Reads /varz and /jsz. */
export async function serverState(server: NatsTestServer): Promise<ServerState> {
  const varz = await (await fetch(`${server.monitorUrl}/varz`)).json() as { mem: number };
  const jsz = await (await fetch(`${server.monitorUrl}/jsz?streams=true`)).json() as {
    account_details?: {
      stream_detail?: { state: { messages: number; bytes: number; num_subjects?: number } }[];
    }[];
  };
  const state = jsz.account_details?.[0]?.stream_detail?.[0]?.state;
  return {
    mem: varz.mem,
    messages: state?.messages ?? 0,
    streamBytes: state?.bytes ?? 0,
    subjects: state?.num_subjects,
  };
}

/** Bytes of the files under `dir`. */
export function diskUse(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += diskUse(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

/**
 * Stops the server (SIGTERM) and starts it again; returns the milliseconds until its process
 * says it is ready and until a `streams.info` of the stream succeeds over a new connection.
 */
export async function restart(
  server: NatsTestServer,
): Promise<{ stopMs: number; readyMs: number; jetStreamMs: number }> {
  const stopping = performance.now();
  await server.stop();
  const stopMs = performance.now() - stopping;
  const started = performance.now();
  await server.start();
  const readyMs = performance.now() - started;
  for (;;) {
    let nc: NatsConnection | undefined;
    try {
      nc = await connect({ servers: server.tcpUrl!, reconnect: false, timeout: 1_000 });
      const jsm = await jetstreamManager(nc, { timeout: 1_000 });
      await jsm.streams.info(STREAM);
      return { stopMs, readyMs, jetStreamMs: performance.now() - started };
    } catch {
      if (performance.now() - started > 120_000) throw new Error("JetStream not back in 120 s");
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      await nc?.close().catch(() => {});
    }
  }
}
