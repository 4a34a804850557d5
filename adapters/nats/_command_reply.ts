// The answer to a command request, built once so it can be sent again unchanged to a retry of
// the same command id: Es-Status, Es-Host and, by status, the codec bytes of the reply or the
// rejection, Es-Seq-No of a duplicate, or Es-Reason and the message of a failure.

import { headers as natsHeaders, type MsgHdrs } from "@nats-io/nats-core";
import {
  HOST_HEADER,
  REASON_HEADER,
  type ReplyStatus,
  SEQ_NO_HEADER,
  STATUS_HEADER,
  type WireFailure,
} from "./_cluster_protocol.ts";

const encoder = new TextEncoder();

/** An encoded answer. */
export interface CommandReply {
  readonly status: ReplyStatus;
  /** The failure reason, for status "failed". */
  readonly reason: WireFailure | undefined;
  readonly headers: MsgHdrs;
  readonly data: Uint8Array;
}

function reply(
  status: ReplyStatus,
  hostId: string,
  data: Uint8Array,
  extra?: readonly [string, string],
  reason?: WireFailure,
): CommandReply {
  const headers = natsHeaders();
  headers.set(STATUS_HEADER, status);
  headers.set(HOST_HEADER, hostId);
  if (extra !== undefined) headers.set(extra[0], extra[1]);
  return { status, reason, headers, data };
}

/** The reply of an accepted command: the reply codec's bytes. */
export function okReply(hostId: string, bytes: Uint8Array): CommandReply {
  return reply("ok", hostId, bytes);
}

/** The reply of a rejected command: the rejection codec's bytes. */
export function rejectedReply(hostId: string, bytes: Uint8Array): CommandReply {
  return reply("rejected", hostId, bytes);
}

/** The reply of a command id the entity already persisted events for. */
export function duplicateReply(hostId: string, seqNo: number): CommandReply {
  return reply("duplicate", hostId, new Uint8Array(0), [SEQ_NO_HEADER, `${seqNo}`]);
}

/** The reply of a command that failed (or was refused) with `reason`. */
export function failedReply(hostId: string, reason: WireFailure, message: string): CommandReply {
  return reply("failed", hostId, encoder.encode(message), [REASON_HEADER, reason], reason);
}
