// What a SQL event log tells `Instrumentation.persistBatch` about a group-commit batch. Only a
// log given an instrumentation with that hook builds the description, so a log without one
// pays nothing per batch.

import type { Instrumentation, PersistBatch } from "../../src/instrumentation.ts";
import { type BatchObserver, observeBatch } from "../../src/_observed_batch.ts";
import type { AppendEntry } from "./append_params.ts";

/** Starts observing a batch; `undefined` when nothing observes it. */
export type ObserveBatch = (batch: readonly AppendEntry[]) => BatchObserver | undefined;

/** The batch observer of a log on `backend`; `undefined` without a `persistBatch` hook. */
export function batchObserver(
  instrumentation: Instrumentation | undefined,
  backend: string,
): ObserveBatch | undefined {
  const hook = instrumentation?.persistBatch;
  if (hook === undefined) return undefined;
  return (batch) => {
    let events = 0;
    let bytes = 0;
    const writes: PersistBatch["writes"][number][] = [];
    for (const entry of batch) {
      events += entry.events.length;
      for (const event of entry.events) bytes += event.length;
      writes.push({ typeName: entry.typeName, id: entry.id, metadata: entry.metadata });
    }
    return observeBatch(hook, { backend, writes, events, bytes });
  };
}
