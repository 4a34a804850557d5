// The running entity behind an EntityRef: mailbox, persist-then-apply, re-sync and snapshots.
// Kept lean because 100k idle entities must fit in 1 KB each and one entity must handle
// hundreds of thousands of commands a second: no closures per entity, no allocation on the
// idle fast path beyond the command's own promise and result.

import type { Command, CommandEffect } from "./command.ts";
import type { EntityRef, HandleCommandOptions } from "./entity_ref.ts";
import type { Binarize } from "./binarize.ts";
import type { EventLog } from "./event_log.ts";
import type { EventSourced } from "./event_sourced.ts";
import type { SnapshotStore } from "./snapshot_store.ts";
import type { Result } from "./result.ts";
import { HandleCommandError, type HandleCommandFailure } from "./errors.ts";
import { replay, type ReplayTarget } from "./_replay.ts";

/** What every entity spawned with the same options shares. */
export interface EntityConfig<State, Event> {
  readonly entity: EventSourced<State, Event>;
  readonly eventLog: EventLog;
  readonly binarize: Binarize<Event, State>;
  readonly snapshotStore: SnapshotStore | undefined;
  readonly snapshotAfter: number | undefined;
  readonly commandBufferSize: number;
  readonly onError: (error: Error) => void;
}

interface Queued {
  readonly command: Command<unknown, unknown, unknown, unknown>;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (result: Result<unknown, unknown>) => void;
  readonly reject: (error: unknown) => void;
  settled: boolean;
  onAbort: (() => void) | undefined;
}

function failure(
  message: string,
  reason: HandleCommandFailure,
  cause?: unknown,
): HandleCommandError {
  return new HandleCommandError(
    message,
    cause === undefined ? { reason } : { reason, cause },
  );
}

/** The implementation of {@linkcode EntityRef}. */
export class Entity<State, Event> implements EntityRef<State, Event>, ReplayTarget<State, Event> {
  readonly id: string;
  readonly #config: EntityConfig<State, Event>;
  #state: State;
  #seqNo: number;
  #busy = false;
  #needsResync = false;
  #queue: Queued[] | undefined;
  #head = 0;
  #stopping: Promise<void> | undefined;
  #idle: (() => void) | undefined;
  #snapshotDue: { state: State; seqNo: number } | undefined;
  #snapshotSaving: Promise<void> | undefined;
  #lastUsed = 0;
  #detachSignal: (() => void) | undefined;

  constructor(config: EntityConfig<State, Event>, id: string, state: State, seqNo: number) {
    this.#config = config;
    this.id = id;
    this.#state = state;
    this.#seqNo = seqNo;
  }

  get entity(): EventSourced<State, Event> {
    return this.#config.entity;
  }
  get eventLog(): EventLog {
    return this.#config.eventLog;
  }
  get binarize(): Binarize<Event, State> {
    return this.#config.binarize;
  }

  /** Whether the entity runs or holds a command: an idle entity can be passivated. */
  get busy(): boolean {
    return this.#busy;
  }

  /** When the last command was sent, as a counter value given by the caller. */
  get lastUsed(): number {
    return this.#lastUsed;
  }
  set lastUsed(value: number) {
    this.#lastUsed = value;
  }

  handleCommand<Reply, Error>(
    command: Command<State, Event, Reply, Error>,
    options?: HandleCommandOptions,
  ): Promise<Result<Reply, Error>> {
    const signal = options?.signal;
    if (this.#stopping !== undefined) {
      return Promise.reject(
        failure(`Cannot handle command for "${this.#name()}": the entity is stopped`, "stopped"),
      );
    }
    if (signal?.aborted) {
      return Promise.reject(this.#aborted(signal));
    }
    if (!this.#busy) {
      this.#busy = true;
      return this.#runFirst(command, signal);
    }
    return this.#enqueue(command, signal) as Promise<Result<Reply, Error>>;
  }

  stop(): Promise<void> {
    return this.#stopping ??= this.#finish();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /** Stops the entity when `signal` aborts; the listener goes when the entity stops. */
  stopOnAbort(signal: AbortSignal): void {
    if (signal.aborted) {
      void this.stop();
      return;
    }
    const stop = () => void this.stop();
    signal.addEventListener("abort", stop, { once: true });
    this.#detachSignal = () => signal.removeEventListener("abort", stop);
  }

  async #finish(): Promise<void> {
    this.#detachSignal?.();
    if (this.#busy) await new Promise<void>((resolve) => (this.#idle = resolve));
    while (this.#snapshotSaving !== undefined) await this.#snapshotSaving;
  }

  #name(): string {
    return `${this.#config.entity.typeName}/${this.id}`;
  }

  #aborted(signal: AbortSignal): HandleCommandError {
    return failure(
      `Cannot handle command for "${this.#name()}": aborted before it ran`,
      "aborted",
      signal.reason,
    );
  }

  // The hot path avoids async functions: a command whose effect needs no I/O settles without
  // a microtask of its own, and an emit costs the log's promise plus one then(). A promise
  // returned by #process has already called #next() by the time it settles.
  #runFirst<Reply, Error>(
    command: Command<State, Event, Reply, Error>,
    signal: AbortSignal | undefined,
  ): Promise<Result<Reply, Error>> {
    let outcome: Result<Reply, Error> | Promise<Result<Reply, Error>>;
    try {
      outcome = this.#process(command, signal);
    } catch (error) {
      this.#next();
      return Promise.reject(error);
    }
    if (outcome instanceof Promise) return outcome;
    this.#next();
    return Promise.resolve(outcome);
  }

  #enqueue(
    command: Command<State, Event, unknown, unknown>,
    signal: AbortSignal | undefined,
  ): Promise<Result<unknown, unknown>> {
    return new Promise((resolve, reject) => {
      const queued: Queued = {
        command: command as Command<unknown, unknown, unknown, unknown>,
        signal,
        resolve,
        reject,
        settled: false,
        onAbort: undefined,
      };
      if (signal !== undefined) {
        queued.onAbort = () => {
          if (queued.settled) return;
          queued.settled = true;
          reject(this.#aborted(signal));
        };
        signal.addEventListener("abort", queued.onAbort, { once: true });
      }
      (this.#queue ??= []).push(queued);
    });
  }

  // Runs queued commands in order until one needs I/O (its settlement calls #next again) or
  // the queue is empty. Commands beyond commandBufferSize wait, in order, for room in the
  // mailbox; with a single consumer that is the same queue, so the bound shows as the order
  // and the waiting.
  #next(): void {
    const queue = this.#queue;
    while (queue !== undefined && this.#head < queue.length) {
      const queued = queue[this.#head]!;
      queue[this.#head++] = undefined as unknown as Queued;
      if (this.#head >= 1024 && this.#head * 2 >= queue.length) {
        // Under a load that never lets the mailbox empty, drop the handled prefix.
        queue.splice(0, this.#head);
        this.#head = 0;
      }
      if (queued.onAbort !== undefined) queued.signal!.removeEventListener("abort", queued.onAbort);
      if (queued.settled) continue;
      queued.settled = true;
      let outcome: Result<unknown, unknown> | Promise<Result<unknown, unknown>>;
      try {
        outcome = this.#process(
          queued.command as Command<State, Event, unknown, unknown>,
          queued.signal,
        );
      } catch (error) {
        queued.reject(error);
        continue;
      }
      if (outcome instanceof Promise) {
        outcome.then(queued.resolve, queued.reject);
        return;
      }
      queued.resolve(outcome);
    }
    if (queue !== undefined) {
      queue.length = 0;
      this.#head = 0;
    }
    this.#busy = false;
    const idle = this.#idle;
    if (idle !== undefined) {
      this.#idle = undefined;
      idle();
    }
  }

  #process<Reply, Error>(
    command: Command<State, Event, Reply, Error>,
    signal: AbortSignal | undefined,
  ): Result<Reply, Error> | Promise<Result<Reply, Error>> {
    if (this.#needsResync) {
      return this.#resync(signal).then(
        () => this.#decideAfterResync(command, signal),
        (error) => {
          this.#next();
          throw error;
        },
      );
    }
    return this.#decide(command, signal);
  }

  #decideAfterResync<Reply, Error>(
    command: Command<State, Event, Reply, Error>,
    signal: AbortSignal | undefined,
  ): Result<Reply, Error> | Promise<Result<Reply, Error>> {
    let outcome: Result<Reply, Error> | Promise<Result<Reply, Error>>;
    try {
      outcome = this.#decide(command, signal);
    } catch (error) {
      this.#next();
      throw error;
    }
    if (!(outcome instanceof Promise)) this.#next();
    return outcome;
  }

  #decide<Reply, Error>(
    command: Command<State, Event, Reply, Error>,
    signal: AbortSignal | undefined,
  ): Result<Reply, Error> | Promise<Result<Reply, Error>> {
    let effect: CommandEffect<State, Event, Reply, Error>;
    try {
      effect = command.handleCommand(this.id, this.#state);
    } catch (cause) {
      throw failure(
        `Cannot handle command for "${this.#name()}": the command handler threw`,
        "command-handler-threw",
        cause,
      );
    }
    switch (effect?.type) {
      case "reply":
        return { ok: true, value: effect.value };
      case "reject":
        return { ok: false, error: effect.error };
      case "emit":
        return this.#emit(effect.events, effect.makeReply, signal);
      default:
        throw failure(
          `Cannot handle command for "${this.#name()}": the command handler returned ${
            effect === null ? "null" : typeof effect
          } instead of an effect from emitAndReply, emit, reply or reject`,
          "command-handler-threw",
        );
    }
  }

  #emit<Reply>(
    events: readonly Event[],
    makeReply: ((state: State) => Reply) | undefined,
    signal: AbortSignal | undefined,
  ): Result<Reply, never> | Promise<Result<Reply, never>> {
    const config = this.#config;
    if (events.length === 0) {
      return { ok: true, value: this.#makeReply(makeReply, this.#state) };
    }
    const bytes: Uint8Array[] = new Array(events.length);
    try {
      for (let i = 0; i < events.length; i++) {
        const encoded = config.binarize.eventToBytes(events[i]!);
        if (!(encoded instanceof Uint8Array)) {
          throw new TypeError(`eventToBytes returned ${typeof encoded}, not a Uint8Array`);
        }
        bytes[i] = encoded;
      }
    } catch (cause) {
      throw failure(
        `Cannot handle command for "${this.#name()}": encoding an event failed, nothing was written`,
        "encode-failed",
        cause,
      );
    }
    const previous = this.#seqNo;
    let persisting: Promise<number>;
    try {
      persisting = config.eventLog.persist(
        config.entity.typeName,
        this.id,
        previous === 0 ? null : previous,
        bytes,
        signal === undefined ? undefined : { signal },
      );
    } catch (cause) {
      persisting = Promise.reject(cause);
    }
    return persisting.then(
      (seqNo) => {
        try {
          return this.#applied(events, makeReply, previous, seqNo);
        } finally {
          this.#next();
        }
      },
      (cause) => {
        this.#needsResync = true;
        this.#next();
        throw failure(
          `Cannot handle command for "${this.#name()}": persisting ${events.length} event(s) after seqNo ${previous} failed`,
          "persist-failed",
          cause,
        );
      },
    );
  }

  #applied<Reply>(
    events: readonly Event[],
    makeReply: ((state: State) => Reply) | undefined,
    previous: number,
    seqNo: number,
  ): Result<Reply, never> {
    const config = this.#config;
    if (seqNo !== previous + events.length) {
      this.#needsResync = true;
      throw failure(
        `Cannot handle command for "${this.#name()}": the event log answered seqNo ${seqNo}, expected ${
          previous + events.length
        }`,
        "persist-failed",
      );
    }
    let state = this.#state;
    try {
      for (let i = 0; i < events.length; i++) state = config.entity.handleEvent(state, events[i]!);
    } catch (cause) {
      this.#needsResync = true;
      throw failure(
        `Cannot handle command for "${this.#name()}": the event handler threw after the events were persisted`,
        "event-handler-threw",
        cause,
      );
    }
    this.#state = state;
    this.#seqNo = seqNo;
    const every = config.snapshotAfter;
    if (every !== undefined && Math.floor(seqNo / every) > Math.floor(previous / every)) {
      this.#scheduleSnapshot(state, seqNo);
    }
    return { ok: true, value: this.#makeReply(makeReply, state) };
  }

  #makeReply<Reply>(makeReply: ((state: State) => Reply) | undefined, state: State): Reply {
    if (makeReply === undefined) return undefined as Reply;
    try {
      return makeReply(state);
    } catch (cause) {
      throw failure(
        `Cannot handle command for "${this.#name()}": the reply function threw`,
        "reply-failed",
        cause,
      );
    }
  }

  async #resync(signal: AbortSignal | undefined): Promise<void> {
    try {
      const replayed = await replay(this, this.#state, this.#seqNo, signal);
      this.#state = replayed.state;
      this.#seqNo = replayed.seqNo;
      this.#needsResync = false;
    } catch (cause) {
      throw failure(
        `Cannot handle command for "${this.#name()}": re-reading the log after a failed write failed`,
        "resync-failed",
        cause,
      );
    }
  }

  #scheduleSnapshot(state: State, seqNo: number): void {
    this.#snapshotDue = { state, seqNo };
    this.#snapshotSaving ??= this.#saveSnapshots();
  }

  // Saves run beside command handling; while one is in flight only the newest due one waits.
  async #saveSnapshots(): Promise<void> {
    const { snapshotStore, binarize, entity, onError } = this.#config;
    await Promise.resolve();
    let due;
    while ((due = this.#snapshotDue) !== undefined) {
      this.#snapshotDue = undefined;
      try {
        const bytes = binarize.stateToBytes(due.state);
        await snapshotStore!.save(entity.typeName, this.id, due.seqNo, bytes);
      } catch (cause) {
        onError(
          new Error(`Cannot save snapshot of "${this.#name()}" at seqNo ${due.seqNo}`, { cause }),
        );
      }
    }
    this.#snapshotSaving = undefined;
  }
}
