// The event log of crypto-shredding: encrypts the personal part of each envelope on persist and
// decrypts it (or marks it forgotten) on read; every other call goes to the log unchanged.
// Reads keep the log's batches (src/_event_batches.ts) and look a key up once per entity and
// batch.

import type {
  CallOptions,
  EventLog,
  PersistedEvent,
  PersistOptions,
  ReadOptions,
} from "../src/event_log.ts";
import { batchedEventStream, type EventBatches, takeBatches } from "../src/_event_batches.ts";
import { assertPersistArguments } from "../src/_validate.ts";
import { isEnvelope, Personal, readEnvelope } from "./_envelope.ts";
import type { EntityKey, KeyRing } from "./_key_ring.ts";
import { seal, unseal } from "./_seal.ts";

export function shreddingEventLog(log: EventLog, keys: KeyRing): EventLog {
  const shredding: EventLog = {
    async persist(
      typeName: string,
      id: string,
      lastSeqNo: number | null,
      events: readonly Uint8Array[],
      options?: PersistOptions,
    ): Promise<number> {
      assertPersistArguments(typeName, id, lastSeqNo, events, undefined, options?.signal);
      const sealed = await sealAll(keys, typeName, id, events, options?.signal);
      return await log.persist(typeName, id, lastSeqNo, sealed, options);
    },
    lastSeqNo: (typeName, id, options) => log.lastSeqNo(typeName, id, options),
    eventsById: (typeName, id, fromSeqNo, options) =>
      decrypted(keys, log.eventsById(typeName, id, fromSeqNo, options), options),
    eventsByType: (typeName, fromPosition, options) =>
      decrypted(keys, log.eventsByType(typeName, fromPosition, options), options),
  };
  if (log.countAfter) {
    const countAfter = log.countAfter.bind(log);
    shredding.countAfter = (typeName: string, position: number, options?: CallOptions) =>
      countAfter(typeName, position, options);
  }
  if (log.deleteEvents) {
    const deleteEvents = log.deleteEvents.bind(log);
    shredding.deleteEvents = (
      typeName: string,
      id: string,
      toSeqNo: number,
      options?: CallOptions,
    ) => deleteEvents(typeName, id, toSeqNo, options);
  }
  if (log.deleteEntity) {
    const deleteEntity = log.deleteEntity.bind(log);
    shredding.deleteEntity = (typeName: string, id: string, options?: CallOptions) =>
      deleteEntity(typeName, id, options);
  }
  const close = (log as { close?: unknown }).close;
  if (typeof close === "function") {
    (shredding as { close?: () => unknown }).close = () => close.call(log);
  }
  return shredding;
}

async function sealAll(
  keys: KeyRing,
  typeName: string,
  id: string,
  events: readonly Uint8Array[],
  signal: AbortSignal | undefined,
): Promise<readonly Uint8Array[]> {
  const envelopes = events.map((bytes) => isEnvelope(bytes) ? readEnvelope(bytes) : undefined);
  if (!envelopes.some((envelope) => envelope?.personal === Personal.Clear)) return events;
  const key = await keys.obtain(typeName, id, signal);
  return await Promise.all(events.map((bytes, i) => {
    const envelope = envelopes[i];
    return envelope?.personal === Personal.Clear ? seal(envelope, key, typeName, id) : bytes;
  }));
}

/** The events of `stream` with their personal parts decrypted or marked forgotten. */
function decrypted(
  keys: KeyRing,
  stream: ReadableStream<PersistedEvent>,
  options: ReadOptions | undefined,
): ReadableStream<PersistedEvent> {
  const signal = options?.signal;
  const pages = takeBatches(stream);
  if (pages !== undefined) {
    const batches: EventBatches = {
      next: async () => {
        const page = await pages.next();
        return page === null ? null : await unsealBatch(keys, page, signal);
      },
      cancel: (reason) => void pages.cancel(reason).catch(() => {}),
      head: () => pages.head(),
    };
    return batchedEventStream(batches, signal);
  }
  const reader = stream.getReader();
  const batches: EventBatches = {
    next: async () => {
      const result = await reader.read();
      return result.done ? null : await unsealBatch(keys, [result.value], signal);
    },
    cancel: (reason) => void reader.cancel(reason).catch(() => {}),
  };
  return batchedEventStream(batches, signal);
}

async function unsealBatch(
  keys: KeyRing,
  events: readonly PersistedEvent[],
  signal: AbortSignal | undefined,
): Promise<readonly PersistedEvent[]> {
  const lookups = new Map<string, Promise<EntityKey | null>>();
  const out = await Promise.all(events.map(async (event) => {
    if (!isEnvelope(event.bytes)) return event;
    const envelope = readEnvelope(event.bytes);
    if (envelope.personal !== Personal.Sealed) return event;
    const name = `${event.typeName}\u0000${event.id}`;
    let lookup = lookups.get(name);
    if (lookup === undefined) {
      lookup = keys.find(event.typeName, event.id, signal);
      lookups.set(name, lookup);
    }
    const key = await lookup;
    const what = `event ${event.seqNo} of ${event.typeName} ${JSON.stringify(event.id)}`;
    const bytes = await unseal(envelope, key, event.typeName, event.id, what);
    return { ...event, bytes };
  }));
  return out;
}
