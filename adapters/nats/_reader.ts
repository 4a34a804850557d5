// A ReadableStream of events over a JetStream ordered consumer, in batches with backpressure:
// the consumer's next pull is only sent once the reader has taken the messages before it.
// The consumer is created at the first read, not at the call, so a stream that is never read
// holds nothing on the server. Finite reads stop at a stream sequence fixed at the call;
// cancel, abort and the end of the read stop the consumer and delete it on the server.

import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { PersistedEvent } from "../../src/event_log.ts";
import { onAbort } from "../../src/_abort.ts";
import { StorageError } from "../../src/errors.ts";
import { storageError } from "./_storage_errors.ts";

// How long one pull waits on the server before the next (the client's default is 30 s). It
// bounds how long a read takes to recover after a server restart drops its consumer: the client
// checks the consumer after two missed heartbeats (each half this) and, when that check fails
// because the server is not ready yet, waits this long before the next check.
const PULL_EXPIRES_MS = 4_000;

/** What a read does once it knows the head. */
export type ReadPlan =
  /** Everything is known already (empty, or inside the head message): no consumer. */
  | { readonly events: readonly PersistedEvent[] }
  /**
   * Consume from `startSeq`; stop after `endSeq` (inclusive), or never when undefined. A
   * promised `endSeq` is awaited beside the consumer's creation; `null` ends the read empty.
   */
  | {
    readonly startSeq: number;
    readonly endSeq: number | undefined | Promise<number | null>;
  };

/** The parts of a read. */
export interface ReadSpec {
  readonly js: JetStreamClient;
  readonly stream: string;
  /** The subject (or `<prefix>.<type>.>`) to consume. */
  readonly filter: string;
  /** Messages per pull. */
  readonly batchSize: number;
  readonly signal: AbortSignal | undefined;
  /** Runs at the call: finds the head and decides the plan. */
  readonly plan: () => Promise<ReadPlan>;
  /** Turns a message into the events the reader wants from it (may be none). */
  readonly decode: (msg: JsMsg) => PersistedEvent[];
  /** Names the read in errors. */
  readonly what: string;
}

/** Streams the events of `spec`. */
export function consumerStream(spec: ReadSpec): ReadableStream<PersistedEvent> {
  const { signal } = spec;
  let finished = false;
  let consumer: Consumer | undefined;
  let messages: ConsumerMessages | undefined;
  let iterator: AsyncIterator<JsMsg> | undefined;
  let endSeq: number | undefined;
  let released: Promise<void> | undefined;
  let removeAbortListener = (): void => {};

  const release = (): Promise<void> =>
    released ??= (async () => {
      finished = true;
      removeAbortListener();
      messages?.stop();
      const current = consumer;
      consumer = undefined;
      // The ordered consumer is also dropped by the server after 5 idle minutes; deleting it
      // frees it now.
      if (current !== undefined) await current.delete().then(() => {}, () => {});
    })();

  // Started at the call, so a finite read ends at the head as of the call.
  let planned: Promise<ReadPlan> | undefined;

  // A stream that has been read from must be read to its end, cancelled or aborted by its
  // signal: its consumer pulls until then.
  const stream = new ReadableStream<PersistedEvent>({
    start(controller) {
      if (signal?.aborted) {
        finished = true;
        controller.error(signal.reason);
        return;
      }
      removeAbortListener = onAbort(signal, () => {
        if (finished) return;
        try {
          controller.error(signal!.reason);
        } catch { /* already closed */ }
        void release();
      });
      planned = spec.plan();
      planned.catch(() => {}); // Reported by the first pull.
    },
    async pull(controller) {
      try {
        if (iterator === undefined) {
          const plan = await planned!;
          if (finished) return;
          if ("events" in plan) {
            for (const event of plan.events) controller.enqueue(event);
            controller.close();
            await release();
            return;
          }
          const creating = spec.js.consumers.get(spec.stream, {
            filter_subjects: spec.filter,
            opt_start_seq: plan.startSeq,
          });
          let end: number | undefined | null;
          try {
            end = await plan.endSeq;
          } catch (error) {
            void creating.then((c) => c.delete()).catch(() => {});
            throw error;
          }
          consumer = await creating;
          if (finished) {
            await consumer.delete().catch(() => {});
            return;
          }
          if (end === null) {
            controller.close();
            await release();
            return;
          }
          endSeq = end;
          const opened = await consumer.consume({
            max_messages: spec.batchSize,
            expires: PULL_EXPIRES_MS,
          });
          if (finished) {
            opened.stop();
            return;
          }
          messages = opened;
          iterator = messages[Symbol.asyncIterator]();
        }
        for (;;) {
          const next = await iterator.next();
          if (finished) return;
          if (next.done) {
            throw new StorageError("the consumer stopped (the connection was closed)", {
              reason: "closed",
            });
          }
          const msg = next.value;
          const seq = msg.seq;
          if (endSeq !== undefined && seq > endSeq) {
            controller.close();
            await release();
            return;
          }
          const events = spec.decode(msg);
          for (const event of events) controller.enqueue(event);
          if (endSeq !== undefined && seq >= endSeq) {
            controller.close();
            await release();
            return;
          }
          if (events.length > 0) return;
        }
      } catch (cause) {
        if (finished) return;
        void release();
        throw storageError(`Cannot read ${spec.what}`, cause, "read");
      }
    },
    cancel() {
      return release();
    },
    // No read-ahead into the stream's queue: the consumer buffers a batch itself, and a
    // stream that is never read must not create one.
  }, { highWaterMark: 0 });
  return stream;
}
