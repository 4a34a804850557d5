// The cursor of a projection over several types: one offset per type, all moved in one unit of
// work with the handler's writes (`commitTypes`), each only past the events of its own type.

import type { EventLog, PersistedEvent } from "../src/event_log.ts";
import type { OffsetChange, OffsetLease } from "./offset_store.ts";
import type { Progress } from "./_progress.ts";
import type { Cursor } from "./_cursor.ts";
import type { EventPages } from "./_batch_reader.ts";
import { mergedPages } from "./_merged_pages.ts";

/** The lease of a store that keeps offsets per type. */
export type TypesLease<Tx> =
  & OffsetLease<Tx>
  & Required<Pick<OffsetLease<Tx>, "loadTypes" | "commitTypes">>;

/** The cursor of a projection over `typeNames`, its offsets in `progress.typeOffsets`. */
export class TypesCursor<Tx> implements Cursor<Tx> {
  readonly #eventLog: EventLog;
  readonly #typeNames: readonly string[];
  readonly #lease: TypesLease<Tx>;
  readonly #progress: Progress;

  constructor(
    eventLog: EventLog,
    typeNames: readonly string[],
    lease: TypesLease<Tx>,
    progress: Progress,
  ) {
    this.#eventLog = eventLog;
    this.#typeNames = typeNames;
    this.#lease = lease;
    this.#progress = progress;
  }

  read(signal: AbortSignal): EventPages {
    const streams = new Map<string, ReadableStream<PersistedEvent>>();
    try {
      for (const typeName of this.#typeNames) {
        const from = this.#progress.typePosition(typeName) + 1;
        streams.set(typeName, this.#eventLog.eventsByType(typeName, from, { live: true, signal }));
      }
    } catch (error) {
      for (const stream of streams.values()) void stream.cancel(error).catch(() => {});
      throw error;
    }
    return mergedPages(streams);
  }

  describeRead(): string {
    const from = this.#typeNames.map((typeName) =>
      `"${typeName}" from position ${this.#progress.typePosition(typeName) + 1}`
    );
    return `events of ${from.join(", ")}`;
  }

  async commit(
    events: readonly PersistedEvent[],
    work: (tx: Tx) => Promise<void>,
    signal: AbortSignal,
    committed?: () => void,
  ): Promise<void> {
    const changes = new Map<string, OffsetChange>();
    const reached = new Map<string, number>();
    for (const { typeName, position } of events) {
      const from = changes.get(typeName)?.from ?? this.#progress.typePosition(typeName);
      changes.set(typeName, { from, to: position });
      reached.set(typeName, position);
    }
    await this.#lease.commitTypes(changes, work, { signal });
    this.#progress.advanceTypes(reached, committed);
  }

  countAfter(signal: AbortSignal): Promise<number> | undefined {
    const eventLog = this.#eventLog;
    if (eventLog.countAfter === undefined) return undefined;
    return Promise.all(
      this.#typeNames.map((typeName) =>
        eventLog.countAfter!(typeName, this.#progress.typePosition(typeName), { signal })
      ),
    ).then((counts) => counts.reduce((sum, count) => sum + count, 0));
  }
}
