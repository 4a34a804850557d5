// What a SQL event log tells `Instrumentation.persistBatch` about a group-commit batch. Only a
// log given an instrumentation with that hook builds the description, so a log without one
// pays a single check per batch.

import type {
  Instrumentation,
  PersistBatch,
  PersistBatchObserver,
} from "../../src/instrumentation.ts";
import type { AppendEntry } from "./append_params.ts";

/** Starts observing a batch; `undefined` when nothing observes it. */
export type ObserveBatch = (
  batch: readonly AppendEntry[],
) => PersistBatchObserver | undefined;

/**
 * The batch observer of a log on `backend` with `instrumentation`; `undefined` without a
 * `persistBatch` hook. A hook that throws observes nothing: it must never fail a write.
 */
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
    let observer: PersistBatchObserver | undefined;
    try {
      observer = hook({ backend, writes, events, bytes });
    } catch {
      return undefined;
    }
    return observer === undefined ? undefined : {
      ended(error?: unknown) {
        try {
          if (error === undefined) observer.ended();
          else observer.ended(error);
        } catch { /* a hook must not fail the write */ }
      },
    };
  };
}
