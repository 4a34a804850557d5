// Small JetStream helpers shared by the event log and the snapshot store.

import type { MsgHdrs, NatsConnection } from "@nats-io/nats-core";
import type { JetStreamManager } from "@nats-io/jetstream";

/** JetStream's error code for a failed expected-last-subject-sequence check. */
export const WRONG_LAST_SEQUENCE = 10071;
/** JetStream's error code for a missing stream. */
export const STREAM_NOT_FOUND = 10059;
/** JetStream's error code for a missing message. */
export const NO_MESSAGE_FOUND = 10037;

/** The JetStream API error code of `error`, if it has one. */
export function apiCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/** A stored message as the (direct) get API returns it. */
export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  readonly headers: MsgHdrs | undefined;
  readonly data: Uint8Array;
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
      return { seq: sm.seq, subject: sm.subject, headers: sm.header, data: sm.data };
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
    throw new Error(
      `direct get of a message on "${filter}" failed: ${code} ${headers?.description ?? ""}`,
    );
  }
  const seq = Number(headers?.get("Nats-Sequence"));
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new Error(`direct get of a message on "${filter}" returned no sequence`);
  }
  return { seq, subject: headers?.get("Nats-Subject") ?? "", headers, data: reply.data };
}

/** Settles like `promise`, or rejects with the signal's reason when it aborts first. */
export function withSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
