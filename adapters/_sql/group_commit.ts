// Group commit: persists that wait at the same time are written by one statement (one
// transaction, one round trip), each entity with its own concurrency check.
//
// A persist joins the queue; a flush is scheduled for when the current task's microtasks have run,
// so persists issued in the same tick share a batch, including those that the answer of the
// last batch sets off many promise hops later (each caller's next command); persists that
// arrive while batches are in flight go together in the next one: the busier the log, the
// bigger the batches. Appends of one type name wait for each other on the server (each holds
// its type name's advisory lock until commit, see positions.ts), and an append that needs no
// check does all its work under that lock, so a second batch of the same type name in flight would only wait there and
// make both batches smaller (measured: 64 entities wrote 10–15% more with one batch per type
// name than with two halves in flight). So one batch per type name is in flight; batches of
// different type names run side by side, up to `concurrency`. Two persists of the same entity
// are never in flight together, so one caller's persists keep their order.

import { ConcurrencyError } from "../../src/errors.ts";
import { afterMicrotasks } from "./after_microtasks.ts";
import type { SqlParam } from "./client.ts";

/** One waiting persist. */
export interface Pending {
  readonly typeName: string;
  readonly id: string;
  readonly key: string;
  readonly lastSeqNo: number | null;
  /**
   * Whether the log must read the entity's last seqNo before writing; not needed when the
   * writer is known not to be ahead of the log (see appendFunction in schema.ts).
   */
  readonly check: boolean;
  readonly events: readonly Uint8Array[];
  readonly signal: AbortSignal | undefined;
  resolve(seqNo: number): void;
  reject(error: unknown): void;
}

/** The outcome of one entity in a batch: written, or the last seqNo actually found. */
export interface Outcome {
  readonly accepted: boolean;
  readonly actual: number;
}

/** Runs one batch; resolves to one outcome per entry, in order. */
export type RunBatch = (batch: readonly Pending[]) => Promise<Outcome[]>;

/** Options of a {@linkcode GroupCommit}. */
export interface GroupCommitOptions {
  /** Batches in flight at once. */
  readonly concurrency: number;
  /** Most entities in one batch. */
  readonly maxEntities: number;
  /** Most event bytes in one batch (a larger single persist still goes alone). */
  readonly maxBytes: number;
}

/** All event bytes of a batch in one array, with where each event starts (1-based) and its length. */
function packEvents(batch: readonly Pending[]): {
  packed: Uint8Array;
  start: number[];
  length: number[];
} {
  let total = 0;
  for (const pending of batch) for (const bytes of pending.events) total += bytes.length;
  const packed = new Uint8Array(total);
  const start: number[] = [];
  const length: number[] = [];
  let offset = 0;
  for (const pending of batch) {
    for (const bytes of pending.events) {
      start.push(offset + 1);
      length.push(bytes.length);
      packed.set(bytes, offset);
      offset += bytes.length;
    }
  }
  return { packed, start, length };
}

/**
 * Encodes a batch as the parameters of the append function (see `schema.ts`); `checkAll`
 * checks every entity's last seqNo.
 */
export function appendParams(
  batch: readonly Pending[],
  notify: boolean,
  checkAll: boolean,
): SqlParam[] {
  const types: string[] = [];
  const ids: string[] = [];
  const expected: number[] = [];
  const check: boolean[] = [];
  const typeIndex = new Map<string, number>();
  for (const pending of batch) typeIndex.set(pending.typeName, 0);
  const typeNames = [...typeIndex.keys()].sort();
  typeNames.forEach((name, i) => typeIndex.set(name, i + 1));
  const typeCounts: number[] = typeNames.map(() => 0);
  const entity: number[] = [];
  const type: number[] = [];
  const seq: number[] = [];
  const rank: number[] = [];
  for (let i = 0; i < batch.length; i++) {
    const pending = batch[i]!;
    types.push(pending.typeName);
    ids.push(pending.id);
    expected.push(pending.lastSeqNo ?? 0);
    check.push(checkAll || pending.check);
    const t = typeIndex.get(pending.typeName)!;
    for (let n = 0; n < pending.events.length; n++) {
      entity.push(i + 1);
      type.push(t);
      seq.push(n + 1);
      rank.push(++typeCounts[t - 1]!);
    }
  }
  const { packed, start, length } = packEvents(batch);
  return [
    types,
    ids,
    expected,
    check,
    typeNames,
    entity,
    type,
    seq,
    rank,
    start,
    length,
    packed,
    notify,
  ];
}

/**
 * Encodes a batch of one type name whose entities need no check as the parameters of the
 * `appendUnchecked` statement; `undefined` when the batch holds several type names or an
 * entity to check.
 */
export function uncheckedParams(
  batch: readonly Pending[],
  notify: boolean,
): SqlParam[] | undefined {
  const typeName = batch[0]!.typeName;
  const ids: string[] = [];
  const seqNos: number[] = [];
  for (const pending of batch) {
    if (pending.check || pending.typeName !== typeName) return undefined;
    const base = pending.lastSeqNo ?? 0;
    for (let n = 1; n <= pending.events.length; n++) {
      ids.push(pending.id);
      seqNos.push(base + n);
    }
  }
  const { packed, start, length } = packEvents(batch);
  return [typeName, ids, seqNos, start, length, packed, notify];
}

/** The queue of persists and the batches in flight. */
export class GroupCommit {
  readonly #run: RunBatch;
  readonly #options: GroupCommitOptions;
  #queue: Pending[] = [];
  readonly #typesInFlight = new Set<string>();
  readonly #busy = new Set<string>(); // entities in flight
  #batches = 0;
  #scheduled = false;
  readonly #unlisten = new Map<Pending, () => void>();

  constructor(run: RunBatch, options: GroupCommitOptions) {
    this.#run = run;
    this.#options = options;
  }

  /**
   * Queues a persist. An abort while it waits in the queue rejects it with the signal's reason;
   * once its batch is sent, it settles with the batch (the write may land).
   */
  add(pending: Pending): void {
    this.#queue.push(pending);
    const signal = pending.signal;
    if (signal !== undefined) {
      const onAbort = () => {
        const index = this.#queue.indexOf(pending);
        if (index < 0) return;
        this.#queue.splice(index, 1);
        pending.reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#unlisten.set(pending, () => signal.removeEventListener("abort", onAbort));
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#batches >= this.#options.concurrency) return;
    this.#scheduled = true;
    afterMicrotasks(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    while (this.#batches < this.#options.concurrency && this.#queue.length > 0) {
      const batch = this.#take();
      if (batch.length === 0) return;
      this.#batches++;
      const types = new Set<string>();
      for (const pending of batch) {
        types.add(pending.typeName);
        this.#busy.add(pending.key);
      }
      for (const type of types) this.#typesInFlight.add(type);
      this.#send(batch).finally(() => {
        this.#batches--;
        for (const pending of batch) this.#busy.delete(pending.key);
        for (const type of types) this.#typesInFlight.delete(type);
        this.#flush();
      });
    }
  }

  #take(): Pending[] {
    // The usual case of a caller whose commands come one at a time: one persist waits, and
    // nothing of its type name is in flight.
    if (this.#queue.length === 1) {
      const only = this.#queue[0]!;
      if (
        !only.signal?.aborted && !this.#busy.has(only.key) &&
        !this.#typesInFlight.has(only.typeName)
      ) {
        this.#queue = [];
        this.#unlisten.get(only)?.();
        this.#unlisten.delete(only);
        return [only];
      }
    }
    const eligible: Pending[] = [];
    const rest: Pending[] = [];
    const keys = new Set<string>();
    for (const pending of this.#queue) {
      if (pending.signal?.aborted) {
        this.#unlisten.get(pending)?.();
        this.#unlisten.delete(pending);
        pending.reject(pending.signal.reason);
      } else if (
        this.#busy.has(pending.key) || keys.has(pending.key) ||
        this.#typesInFlight.has(pending.typeName)
      ) {
        rest.push(pending);
      } else {
        keys.add(pending.key);
        eligible.push(pending);
      }
    }
    const limit = this.#options.maxEntities;
    const batch: Pending[] = [];
    let bytes = 0;
    for (const pending of eligible) {
      const size = pending.events.reduce((sum, e) => sum + e.length, 0);
      if (batch.length >= limit || (batch.length > 0 && bytes + size > this.#options.maxBytes)) {
        rest.push(pending);
        continue;
      }
      const unlisten = this.#unlisten.get(pending);
      if (unlisten !== undefined) {
        unlisten();
        this.#unlisten.delete(pending);
      }
      batch.push(pending);
      bytes += size;
    }
    // Keep the queue in arrival order, so no persist is overtaken for ever.
    const order = new Map(this.#queue.map((pending, i) => [pending, i]));
    this.#queue = rest.sort((a, b) => order.get(a)! - order.get(b)!);
    return batch;
  }

  async #send(batch: Pending[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await this.#run(batch);
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const pending = batch[i]!;
      const outcome = outcomes[i]!;
      if (outcome.accepted) {
        pending.resolve((pending.lastSeqNo ?? 0) + pending.events.length);
      } else {
        pending.reject(
          new ConcurrencyError({
            typeName: pending.typeName,
            id: pending.id,
            expected: pending.lastSeqNo,
            actual: outcome.actual === 0 ? null : outcome.actual,
          }),
        );
      }
    }
  }
}
