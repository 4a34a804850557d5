// What the NATS store admin reads of the stream: its subjects (the entities, from the stream's
// subject state) and the last message of each subject (the entity's last seqNo), headers only.

import { DeliverPolicy, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import { StorageError } from "../../src/errors.ts";
import type { NatsLogInternals } from "./_log_internals.ts";
import { apiCode, storageError, STREAM_NOT_FOUND } from "./_storage_errors.ts";
import { withSignal } from "./_jetstream.ts";

// Messages per pull of the last-per-subject read, and how long one pull waits.
const PULL_MESSAGES = 1_000;
const PULL_EXPIRES_MS = 2_000;

/** The subjects matching `filter` with their message counts (every page of the subject state). */
export async function streamSubjects(
  log: NatsLogInternals,
  filter: string,
  what: string,
  signal: AbortSignal | undefined,
): Promise<string[]> {
  try {
    const jsm = await withSignal(log.streamAdmin.manager(), signal);
    const info = await withSignal(
      jsm.streams.info(log.stream, { subjects_filter: filter }),
      signal,
    );
    return Object.keys(info.state.subjects ?? {});
  } catch (error) {
    if (signal?.aborted && error === signal.reason) throw error;
    if (apiCode(error) === STREAM_NOT_FOUND) {
      throw new StorageError(
        `${what}: stream "${log.stream}" does not exist (call setup() first)`,
        { reason: "schema-missing", cause: error },
      );
    }
    throw storageError(what, error, "read");
  }
}

/**
 * Calls `onMessage` with the last message (headers only) of each subject matching `filter`,
 * of which there are `count`, through one ordered consumer deleted at the end.
 */
export async function lastPerSubject(
  js: JetStreamClient,
  stream: string,
  filter: string,
  count: number,
  onMessage: (msg: JsMsg) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (count === 0) return;
  const consumer = await withSignal(
    js.consumers.get(stream, {
      filter_subjects: filter,
      deliver_policy: DeliverPolicy.LastPerSubject,
      headers_only: true,
    }),
    signal,
  );
  try {
    let seen = 0;
    while (seen < count) {
      signal?.throwIfAborted();
      const batch = await consumer.fetch({
        max_messages: Math.min(count - seen, PULL_MESSAGES),
        expires: PULL_EXPIRES_MS,
      });
      let received = 0;
      for await (const msg of batch) {
        onMessage(msg);
        received++;
      }
      seen += received;
      // A pull that finds nothing means the count is reached, or that entities listed were
      // deleted since (their subjects purged).
      if (received === 0) break;
    }
  } finally {
    await consumer.delete().catch(() => {});
  }
}
