// Deleting an entity's events on NATS: purges of its subject. A persist is one message, so the
// events of one message go together; a partial deletion purges the messages before the one that
// holds the first event to keep (or the entity's last event), by stream sequence, so an event
// written meanwhile is never purged. Stream sequences are never reused, so neither are positions.

import type { JetStreamManager } from "@nats-io/jetstream";
import { StorageError } from "../../src/errors.ts";
import type { MessageSource } from "./_read_plan.ts";
import type { StoredMessage } from "./_jetstream.ts";
import { decodeSeqNoHeaders } from "./_message.ts";

/** One entity of the stream, to purge. */
export interface PurgedEntity {
  readonly typeName: string;
  readonly id: string;
  readonly subject: string;
}

/**
 * Purges the entity's messages whose events all have a seqNo up to `toSeqNo`, except the one
 * that holds its last event; resolves to the number of events purged.
 */
export async function purgeEventsUpTo(
  source: MessageSource,
  jsm: JetStreamManager,
  stream: string,
  entity: PurgedEntity,
  toSeqNo: number,
): Promise<number> {
  const first = await source.get({ seq: 1, next_by_subj: entity.subject });
  if (first === null) return 0;
  const last = await source.last(entity.subject);
  if (last === null) return 0;
  const lastSeqNos = decodeSeqNoHeaders(entity.typeName, entity.id, last);
  const keep = Math.min(toSeqNo + 1, lastSeqNos.firstSeqNo + lastSeqNos.count - 1);
  const holder = lastSeqNos.firstSeqNo <= keep ? last : await holding(source, entity, keep, last);
  if (holder.seq <= first.seq) return 0;
  await jsm.streams.purge(stream, { filter: entity.subject, seq: holder.seq });
  return decodeSeqNoHeaders(entity.typeName, entity.id, holder).firstSeqNo -
    decodeSeqNoHeaders(entity.typeName, entity.id, first).firstSeqNo;
}

/** Purges every message of the entity; resolves to the number of events purged. */
export async function purgeEntity(
  source: MessageSource,
  jsm: JetStreamManager,
  stream: string,
  entity: PurgedEntity,
): Promise<number> {
  const first = await source.get({ seq: 1, next_by_subj: entity.subject });
  if (first === null) return 0;
  const last = await source.last(entity.subject);
  if (last === null) return 0;
  await jsm.streams.purge(stream, { filter: entity.subject });
  const lastSeqNos = decodeSeqNoHeaders(entity.typeName, entity.id, last);
  return lastSeqNos.firstSeqNo + lastSeqNos.count -
    decodeSeqNoHeaders(entity.typeName, entity.id, first).firstSeqNo;
}

// The entity's message that holds `seqNo`, found by a binary search over stream sequences below
// the entity's last message.
async function holding(
  source: MessageSource,
  entity: PurgedEntity,
  seqNo: number,
  last: StoredMessage,
): Promise<StoredMessage> {
  let low = 1;
  let high = last.seq;
  while (low <= high) {
    const middle = Math.floor((low + high) / 2);
    const msg = await source.get({ seq: middle, next_by_subj: entity.subject });
    if (msg === null) break;
    const { firstSeqNo, count } = decodeSeqNoHeaders(entity.typeName, entity.id, msg);
    if (firstSeqNo > seqNo) high = middle - 1;
    else if (firstSeqNo + count - 1 < seqNo) low = msg.seq + 1;
    else return msg;
  }
  throw new StorageError(
    `No message of "${entity.typeName}/${entity.id}" holds seqNo ${seqNo}: its seqNos have a gap`,
    { reason: "corrupt-data" },
  );
}
