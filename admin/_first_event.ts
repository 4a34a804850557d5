// Reading a single event (the first of a read) without keeping the read open.

import type { PersistedEvent } from "../src/event_log.ts";

/** The first chunk of `stream`, or `null` when it is empty; the rest of the read is cancelled. */
export async function firstOf<T>(stream: ReadableStream<T>): Promise<T | null> {
  const reader = stream.getReader();
  try {
    const { done, value } = await reader.read();
    return done ? null : value;
  } finally {
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** Whether two events hold the same copy-kept fields (position only when `withPosition`). */
export function sameEvent(a: PersistedEvent, b: PersistedEvent, withPosition: boolean): boolean {
  if (a.id !== b.id || a.seqNo !== b.seqNo || a.version !== b.version) return false;
  if (a.writtenAt !== b.writtenAt || (withPosition && a.position !== b.position)) return false;
  if (a.bytes.length !== b.bytes.length || !a.bytes.every((byte, i) => byte === b.bytes[i])) {
    return false;
  }
  return JSON.stringify(sortedMetadata(a)) === JSON.stringify(sortedMetadata(b));
}

function sortedMetadata(event: PersistedEvent): unknown {
  const { headers, ...ids } = event.metadata;
  const sortedHeaders = headers === undefined
    ? null
    : Object.keys(headers).sort().map((name) => [name, headers[name]]);
  return [ids.commandId, ids.correlationId, ids.causationId, sortedHeaders];
}
