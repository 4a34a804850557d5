// The raw path of bench/cluster.ts: what the routed path does, written with the bare nats.js
// client and nothing of this package. A caller sends a request to the entity's subject; the
// responder persists one event the way NatsEventLog does (a request to the entity's subject
// in the "eventsourced" stream, with Nats-Expected-Last-Subject-Sequence first, the seqNo and
// the command id as headers, the acknowledgement parsed as JSON), adds it to the entity's
// total and replies with the total as JSON. The expected sequence comes from the responder's
// memory of each entity's last message, as the log's head cache gives it.

import { headers, type Msg, type NatsConnection, type Subscription } from "@nats-io/nats-core";

/** The subject prefix the raw callers send to; the entity id is the last token. */
export const RAW_SUBJECT = "rawbench.counter";
const STREAM_SUBJECT = "eventsourced.rawcounter";
const COMMAND_ID = "Es-Command-Id";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Head {
  streamSeq: number;
  seqNo: number;
  total: number;
}

/** Answers the raw path's requests on `nc` until the subscription is drained. */
export function serveRaw(nc: NatsConnection, onError: (error: unknown) => void): Subscription {
  const heads = new Map<string, Head>();
  const handle = async (msg: Msg): Promise<void> => {
    const id = msg.subject.slice(RAW_SUBJECT.length + 1);
    const by = JSON.parse(decoder.decode(msg.data)) as number;
    const head = heads.get(id) ?? { streamSeq: 0, seqNo: 0, total: 0 };
    const h = headers();
    h.set("Nats-Expected-Last-Subject-Sequence", `${head.streamSeq}`);
    h.set("Eventsourced-Seq-No", `${head.seqNo + 1}`);
    const commandId = msg.headers?.get(COMMAND_ID);
    if (commandId) h.set(COMMAND_ID, commandId);
    const event = encoder.encode(JSON.stringify({ type: "added", by }));
    const ack = await nc.request(`${STREAM_SUBJECT}.${id}`, event, { headers: h, timeout: 10_000 });
    const answer = JSON.parse(decoder.decode(ack.data)) as { seq?: number; error?: unknown };
    if (typeof answer.seq !== "number") {
      throw new Error(`publish of ${id} refused: ${JSON.stringify(answer.error)}`);
    }
    const next = { streamSeq: answer.seq, seqNo: head.seqNo + 1, total: head.total + by };
    heads.set(id, next);
    msg.respond(encoder.encode(JSON.stringify(next.total)));
  };
  return nc.subscribe(`${RAW_SUBJECT}.*`, {
    callback: (error, msg) => {
      if (error) onError(error);
      else handle(msg).catch(onError);
    },
  });
}

/** The raw caller: one request per command, the command id in a header, the total parsed. */
export function rawSender(nc: NatsConnection): (id: string, commandId: string) => Promise<void> {
  const one = encoder.encode("1");
  return async (id, commandId) => {
    const h = headers();
    h.set(COMMAND_ID, commandId);
    const reply = await nc.request(`${RAW_SUBJECT}.${id}`, one, { headers: h, timeout: 10_000 });
    if (typeof JSON.parse(decoder.decode(reply.data)) !== "number") {
      throw new Error(`raw reply of ${id} is not a total`);
    }
  };
}
