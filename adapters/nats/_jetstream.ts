// Getting one stored message by subject and sequence, shared by the event log's reads and head
// lookups, and bounding a call by a signal.

import type { MsgHdrs, NatsConnection } from "@nats-io/nats-core";
import type { JetStreamManager } from "@nats-io/jetstream";
import { StorageError } from "../../src/errors.ts";
import { onAbort } from "../../src/_abort.ts";
import { apiCode, NO_MESSAGE_FOUND } from "./_storage_errors.ts";

/** A stored message as the (direct) get API returns it. */
export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  readonly headers: MsgHdrs | undefined;
  readonly data: Uint8Array;
  /** When it was stored, as the server gives it (RFC 3339, nanoseconds). */
  readonly timestamp: string;
}

/** Which stored message to get. */
export type MessageQuery =
  /** The last message on a subject (wildcards allowed). */
  | { readonly last_by_subj: string }
  /** The first message on a subject at or after a stream sequence. */
  | { readonly seq: number; readonly next_by_subj: string };

/**
 * The message `query` names, or `null`. Uses the direct get API when the stream allows it (no
 * JSON or base64 on the way), else the message get API.
 */
export async function getMessage(
  nc: NatsConnection,
  jsm: JetStreamManager,
  apiPrefix: string,
  stream: string,
  query: MessageQuery,
  direct: boolean,
  timeout: number,
): Promise<StoredMessage | null> {
  const filter = "last_by_subj" in query ? query.last_by_subj : query.next_by_subj;
  if (!direct) {
    try {
      const sm = await jsm.streams.getMessage(stream, query);
      if (sm === null) return null;
      return {
        seq: sm.seq,
        subject: sm.subject,
        headers: sm.header,
        data: sm.data,
        timestamp: sm.timestamp,
      };
    } catch (error) {
      if (apiCode(error) === NO_MESSAGE_FOUND) return null;
      throw error;
    }
  }
  const reply = await nc.request(
    `${apiPrefix}.DIRECT.GET.${stream}`,
    JSON.stringify(query),
    { timeout },
  );
  const headers = reply.headers;
  const code = headers?.code ?? 0;
  if (code === 404) return null;
  if (code !== 0 && code !== 200) {
    throw new StorageError(
      `direct get of a message on "${filter}" failed: ${code} ${headers?.description ?? ""}`,
      { reason: code === 503 ? "schema-missing" : code === 408 ? "timeout" : "failed" },
    );
  }
  const seq = Number(headers?.get("Nats-Sequence"));
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new StorageError(`direct get of a message on "${filter}" returned no sequence`, {
      reason: "corrupt-data",
    });
  }
  return {
    seq,
    subject: headers?.get("Nats-Subject") ?? "",
    headers,
    data: reply.data,
    timestamp: headers?.get("Nats-Time-Stamp") ?? "",
  };
}

/** Settles like `promise`, or rejects with the signal's reason when it aborts first. */
export function withSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const remove = onAbort(signal, () => reject(signal.reason));
    promise.then(
      (value) => {
        remove();
        resolve(value);
      },
      (error) => {
        remove();
        reject(error);
      },
    );
  });
}
