// A command request as it arrives on a shard's subject, read and checked before anything runs:
// every header of the protocol and the payload, each problem a failure with the reason the
// caller gets ("invalid-id", "unknown-command", "bad-payload", "aborted") and a message that
// names what was wrong.

import type { Msg, MsgHdrs } from "@nats-io/nats-core";
import type { Command } from "../../src/command.ts";
import type { ResolvedCommandCodecs } from "../../src/command_set.ts";
import type { HandleCommandFailure } from "../../src/errors.ts";
import { type EventMetadata, readMetadata } from "../../src/event_metadata.ts";
import { errorText } from "../../src/_error_text.ts";
import { assertId, quote } from "../../src/_validate.ts";
import { COMMAND_HEADER, ID_HEADER, TIMEOUT_HEADER, TYPE_HEADER } from "./_cluster_protocol.ts";
import { decodeHeaderValue, readMetadataHeaders } from "./_metadata_headers.ts";
import { shardOf } from "./_shard_hash.ts";
import type { HostedType } from "./entity_host_options.ts";

/** Where a request arrived: the type and shard of the subject, and the cluster's shard count. */
export interface RequestTarget {
  readonly typeName: string;
  readonly shard: number;
  readonly shards: number;
  readonly commands: HostedType["commands"];
}

/** A request that passed every check. */
export interface CommandRequest {
  readonly ok: true;
  readonly id: string;
  readonly name: string;
  readonly command: Command<unknown, unknown, unknown, unknown>;
  readonly codecs: ResolvedCommandCodecs;
  readonly metadata: EventMetadata;
  /** performance.now() by which the caller gives up; `undefined`: no deadline was sent. */
  readonly deadline: number | undefined;
}

/** A request refused before it ran. */
export interface RefusedRequest {
  readonly ok: false;
  readonly reason: HandleCommandFailure;
  readonly message: string;
}

const TIMEOUT_VALUE = /^(0|[1-9][0-9]{0,9})$/;

function refuse(reason: HandleCommandFailure, message: string): RefusedRequest {
  return { ok: false, reason, message };
}

/** The header fields of `headers` (first value of each name), in the form of _metadata_headers. */
export function headerFields(headers: MsgHdrs | undefined): [string, string][] {
  const fields: [string, string][] = [];
  if (headers === undefined) return fields;
  for (const [name, values] of headers) {
    if (values.length > 0) fields.push([name, values[0]!]);
  }
  return fields;
}

/** Reads and checks request `msg` that arrived at `target`, received at `receivedAt`. */
export function readCommandRequest(
  msg: Msg,
  target: RequestTarget,
  receivedAt: number,
): CommandRequest | RefusedRequest {
  const fields = headerFields(msg.headers);
  const header = (name: string) => fields.find(([key]) => key === name)?.[1];
  const type = header(TYPE_HEADER);
  if (type !== target.typeName) {
    return refuse(
      "unknown-command",
      `The request for entity type ${
        quote(type ?? "(none)")
      } came on the subject of "${target.typeName}"`,
    );
  }
  const encodedId = header(ID_HEADER);
  let id: string;
  try {
    if (encodedId === undefined) throw new TypeError(`header ${ID_HEADER} is missing`);
    id = decodeHeaderValue(encodedId);
    assertId(id);
  } catch (error) {
    return refuse("invalid-id", `Invalid id of "${target.typeName}": ${errorText(error)}`);
  }
  const shard = shardOf(id, target.shards);
  if (shard !== target.shard) {
    return refuse(
      "invalid-id",
      `Id ${
        quote(id)
      } of "${target.typeName}" belongs to shard ${shard}, it came to shard ${target.shard}`,
    );
  }
  const name = header(COMMAND_HEADER) ?? "";
  const codecs = Object.hasOwn(target.commands.commands, name)
    ? target.commands.codecs(name)
    : undefined;
  if (codecs === undefined) {
    return refuse(
      "unknown-command",
      `"${target.typeName}" has no command ${quote(name)} (it has ${
        Object.keys(target.commands.commands).join(", ")
      })`,
    );
  }
  let metadata: EventMetadata;
  try {
    metadata = readMetadata("command", readMetadataHeaders(fields).metadata);
  } catch (error) {
    return refuse("bad-payload", `Invalid metadata: ${errorText(error)}`);
  }
  let command: Command<unknown, unknown, unknown, unknown>;
  try {
    const payload = codecs.payload.decode(msg.data);
    const factory = target.commands.commands[name] as (payload: unknown) => unknown;
    const made = factory(payload) as Command<unknown, unknown, unknown, unknown> | null;
    if (typeof made?.handleCommand !== "function") {
      throw new TypeError(`the factory returned ${quote(made)}, not a command`);
    }
    command = made;
  } catch (error) {
    return refuse(
      "bad-payload",
      `Invalid payload of "${name}" for "${target.typeName}/${id}": ${errorText(error)}`,
    );
  }
  const timeout = header(TIMEOUT_HEADER);
  let deadline: number | undefined;
  if (timeout !== undefined) {
    if (!TIMEOUT_VALUE.test(timeout)) {
      return refuse(
        "bad-payload",
        `Invalid header ${TIMEOUT_HEADER} ${quote(timeout)}: expected a non-negative integer`,
      );
    }
    const ms = Number(timeout);
    if (ms === 0) {
      return refuse("aborted", `"${name}" for "${target.typeName}/${id}": the deadline has passed`);
    }
    deadline = receivedAt + ms;
  }
  return { ok: true, id, name, command, codecs, metadata, deadline };
}
