// The live reads of several types as one source of pages, each page from one type: a page is
// handed out as soon as any type has one, taking the types in turn when several have, so a busy
// type cannot hold back the others. Each type's events stay in position order; across types
// there is no order. A type whose read fails or ends fails the merged read at once, so the run
// loop reads every type again from its offset, and its error strategy sees the failure.

import type { PersistedEvent } from "../src/event_log.ts";
import { takeBatches } from "../src/_event_batches.ts";
import { errorText } from "../src/_error_text.ts";
import type { EventPages } from "./_batch_reader.ts";

interface Source {
  readonly typeName: string;
  readonly pages: EventPages;
  pending: Promise<Arrived> | undefined;
}

interface Arrived {
  readonly source: Source;
  readonly page: readonly PersistedEvent[] | null;
}

/** The pages of one stream: its batches when the log made it, else one event a page. */
function pagesOf(stream: ReadableStream<PersistedEvent>): EventPages {
  const batches = takeBatches(stream);
  if (batches !== undefined) return batches;
  const reader = stream.getReader();
  return {
    async next() {
      const result = await reader.read();
      return result.done ? null : [result.value];
    },
    cancel: (reason) => reader.cancel(reason),
  };
}

/** The pages of `streams` (by type name), merged as described above. */
export function mergedPages(
  streams: ReadonlyMap<string, ReadableStream<PersistedEvent>>,
): EventPages {
  const sources: Source[] = [...streams].map(([typeName, stream]) => ({
    typeName,
    pages: pagesOf(stream),
    pending: undefined,
  }));
  let turn = 0;
  return {
    async next() {
      const racing: Promise<Arrived>[] = [];
      for (let i = 0; i < sources.length; i++) {
        const source = sources[(turn + i) % sources.length]!;
        if (source.pending === undefined) {
          source.pending = source.pages.next().then(
            (page) => ({ source, page }),
            (error) => {
              throw new Error(`the read of "${source.typeName}" failed: ${errorText(error)}`, {
                cause: error,
              });
            },
          );
          // Seen by the next race; until then a failure is not unhandled.
          source.pending.catch(() => {});
        }
        racing.push(source.pending);
      }
      const { source, page } = await Promise.race(racing);
      source.pending = undefined;
      turn = (sources.indexOf(source) + 1) % sources.length;
      if (page === null) throw new Error(`the live read of "${source.typeName}" ended`);
      return page;
    },
    async cancel(reason) {
      await Promise.all(sources.map((source) => source.pages.cancel(reason).catch(() => {})));
    },
  };
}
