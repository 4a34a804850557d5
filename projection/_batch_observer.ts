// A projection batch as `Instrumentation.projectionBatch` sees it. A hook must never fail the
// projection, so what it throws is dropped: the batch goes on unobserved.

import type { PersistedEvent } from "../src/event_log.ts";
import type { Instrumentation, ProjectionBatchObserver } from "../src/instrumentation.ts";

/** Calls `hook` for `events` of projection `name`; `undefined` when it observes nothing. */
export function observeBatch(
  hook: NonNullable<Instrumentation["projectionBatch"]>,
  name: string,
  events: readonly PersistedEvent[],
): ProjectionBatchObserver | undefined {
  let observer: ProjectionBatchObserver | undefined;
  try {
    observer = hook(name, events);
  } catch {
    return undefined;
  }
  return observer === undefined ? undefined : {
    ended(error?: unknown) {
      try {
        if (error === undefined) observer.ended();
        else observer.ended(error);
      } catch { /* dropped, see above */ }
    },
  };
}
