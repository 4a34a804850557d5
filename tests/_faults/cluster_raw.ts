// A command sent straight to a shard's subject with a plain NATS request, bypassing
// EntityClient: it is answered by whichever member of the shard's queue group NATS picks (for
// a zombie: its stale subscription or the new owner's), without retries, and its reply shows
// which host answered and how.

import type { NatsConnection } from "@nats-io/nats-core";
import { headers } from "@nats-io/nats-core";
import {
  COMMAND_HEADER,
  HOST_HEADER,
  ID_HEADER,
  REASON_HEADER,
  shardSubject,
  STATUS_HEADER,
  TIMEOUT_HEADER,
  TYPE_HEADER,
} from "../../adapters/nats/_cluster_protocol.ts";
import { encodeHeaderValue } from "../../adapters/nats/_metadata_headers.ts";

/** How a raw request was answered. */
export interface RawReply {
  host: string;
  status: string;
  reason: string;
}

/**
 * Sends `get` to `type`/`id` on shard `shard` of `cluster` with a deadline of `timeout` ms (in
 * Es-Timeout and for the reply); rejects on no responders or when no reply comes in time.
 */
export async function rawGet(
  nc: NatsConnection,
  cluster: string,
  type: string,
  id: string,
  shard: number,
  timeout: number,
): Promise<RawReply> {
  const h = headers();
  h.set(TYPE_HEADER, type);
  h.set(ID_HEADER, encodeHeaderValue(id));
  h.set(COMMAND_HEADER, "get");
  h.set(TIMEOUT_HEADER, `${timeout}`);
  const reply = await nc.request(shardSubject(cluster, type, shard), new Uint8Array(0), {
    headers: h,
    timeout,
  });
  return {
    host: reply.headers?.get(HOST_HEADER) ?? "",
    status: reply.headers?.get(STATUS_HEADER) ?? "",
    reason: reply.headers?.get(REASON_HEADER) ?? "",
  };
}
