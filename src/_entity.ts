// The running entity behind an EntityRef: one command at a time, persist-then-apply, re-sync
// after a failed write; the waiting commands live in _mailbox.ts, snapshot saves in
// _snapshot_saver.ts.
// Kept lean because 100k idle entities must fit in 1 KB each and one entity must handle
// hundreds of thousands of commands a second: no closures per entity, no allocation on the
// idle fast path beyond the command's own promise and result. Instrumentation follows the same
// path: an instrumented command carries its ObservedCommand along as an argument (never a field,
// which every idle entity would pay for); without instrumentation that argument is undefined.

import type { Command, CommandEffect } from "./command.ts";
import type { EntityRef, HandleCommandOptions, WithoutCommandId } from "./entity_ref.ts";
import type { Binarize } from "./binarize.ts";
import type { EventLog, PersistOptions } from "./event_log.ts";
import type { EventSourced } from "./event_sourced.ts";
import type { SnapshotStore } from "./snapshot_store.ts";
import type { Duplicate, Result } from "./result.ts";
import type { HandleCommandError } from "./errors.ts";
import { commandFailure, persistFailure } from "./_command_failure.ts";
import { replay, type ReplayTarget } from "./_replay.ts";
import { Mailbox } from "./_mailbox.ts";
import { effectProblem, isValidEmit } from "./_effect.ts";
import { COMMAND_OPTION_KEYS, optionsSignal } from "./_call_options.ts";
import { EMPTY_METADATA, type EventMetadata, readMetadata } from "./event_metadata.ts";
import { CommandIds, readCommandIds } from "./_command_ids.ts";
import { onAbort } from "./_abort.ts";
import { SnapshotSaver } from "./_snapshot_saver.ts";
import type { Instrumentation } from "./instrumentation.ts";
import { ObservedCommand } from "./_observed.ts";

/** What every entity spawned with the same options shares. */
export interface EntityConfig<State, Event> {
  readonly entity: EventSourced<State, Event>;
  readonly eventLog: EventLog;
  readonly binarize: Binarize<Event, State>;
  readonly snapshotStore: SnapshotStore | undefined;
  readonly snapshotAfter: number | undefined;
  readonly commandBufferSize: number;
  readonly deduplicationWindow: number;
  readonly onError: (error: Error) => void;
  /**
   * The hooks commands, spawns and registries report to; `undefined` when none was given or it
   * has no hook (so an uninstrumented command pays one check). The command hook is read from
   * here rather than kept in a field of its own, which every entity spawned alone would carry.
   */
  readonly instrumentation: Instrumentation | undefined;
  /** The persist options of a command without signal or metadata (the codec's version). */
  readonly persistOptions: PersistOptions | undefined;
}

/** What a command comes to: its result, or a duplicate of one already applied. */
type Answer<Reply, Error> = Result<Reply, Error> | Duplicate;

/** The implementation of {@linkcode EntityRef}. */
export class Entity<State, Event> implements EntityRef<State, Event>, ReplayTarget<State, Event> {
  readonly id: string;
  readonly #config: EntityConfig<State, Event>;
  #state: State;
  #seqNo: number;
  #busy = false;
  #needsResync = false;
  #mailbox: Mailbox | undefined;
  #stopping: Promise<void> | undefined;
  // What only a stopping entity or one spawned with a signal needs, in one field: each field
  // counts in the size of every idle entity.
  #stopHooks: { idle?: (() => void) | undefined; detachSignal?: () => void } | undefined;
  #snapshots: SnapshotSaver<State> | undefined;
  #lastUsed = 0;
  // The command ids of the recent events; undefined until one is seen, unless the entity was
  // spawned from a snapshot (then it records from where on the ids are known).
  #commandIds: CommandIds | undefined;

  constructor(
    config: EntityConfig<State, Event>,
    id: string,
    state: State,
    seqNo: number,
    commandIds: CommandIds | undefined,
  ) {
    this.#config = config;
    this.id = id;
    this.#state = state;
    this.#seqNo = seqNo;
    this.#commandIds = commandIds;
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
  get deduplicationWindow(): number {
    return this.#config.deduplicationWindow;
  }

  /** Whether the entity runs or holds a command: an idle entity can be passivated. */
  get busy(): boolean {
    return this.#busy;
  }

  /** Whether `stop()` was called: the entity refuses new commands. */
  get stopping(): boolean {
    return this.#stopping !== undefined;
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
    options?: WithoutCommandId,
  ): Promise<Result<Reply, Error>>;
  handleCommand<Reply, Error>(
    command: Command<State, Event, Reply, Error>,
    options?: HandleCommandOptions,
  ): Promise<Result<Reply, Error> | Duplicate>;
  handleCommand<Reply, Error>(
    command: Command<State, Event, Reply, Error>,
    options?: HandleCommandOptions,
  ): Promise<Result<Reply, Error> | Duplicate> {
    let signal: AbortSignal | undefined;
    let metadata = EMPTY_METADATA;
    if (options !== undefined) {
      try {
        signal = optionsSignal("handleCommand", options, COMMAND_OPTION_KEYS);
        metadata = readMetadata("handleCommand", options.metadata);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const observe = this.#config.instrumentation?.command;
    if (observe !== undefined) return this.#observed(observe, command, signal, metadata);
    return this.#submit(command, signal, metadata, undefined);
  }

  // An instrumented command: its observer follows it through and hears how it ended.
  #observed<Reply, Error>(
    observe: NonNullable<Instrumentation["command"]>,
    command: Command<State, Event, Reply, Error>,
    signal: AbortSignal | undefined,
    metadata: EventMetadata,
  ): Promise<Answer<Reply, Error>> {
    const config = this.#config;
    const observer = ObservedCommand.start(
      observe,
      config.onError,
      config.entity.typeName,
      this.id,
      metadata,
      this.#busy ? this.#mailbox?.size ?? 0 : 0,
    );
    if (observer === undefined) return this.#submit(command, signal, metadata, undefined);
    return this.#submit(command, signal, metadata, observer).then(
      observer.resolved,
      observer.rejected,
    );
  }

  #submit<Reply, Error>(
    command: Command<State, Event, Reply, Error>,
    signal: AbortSignal | undefined,
    metadata: EventMetadata,
    observer: ObservedCommand | undefined,
  ): Promise<Answer<Reply, Error>> {
    if (this.#stopping !== undefined) {
      return Promise.reject(
        commandFailure(this.#name(), `the entity is stopped`, "stopped"),
      );
    }
    if (signal?.aborted) {
      return Promise.reject(this.#aborted(signal));
    }
    if (!this.#busy) {
      this.#busy = true;
      observer?.started();
      return this.#runFirst(command, signal, metadata, observer);
    }
    const mailbox = this.#mailbox ??= new Mailbox(this.#config.commandBufferSize);
    if (mailbox.full) {
      return Promise.reject(
        commandFailure(
          this.#name(),
          `the mailbox is full (${this.#config.commandBufferSize} commands wait behind the one running); nothing was done`,
          "mailbox-full",
        ),
      );
    }
    return mailbox.add(
      command as Command<unknown, unknown, unknown, unknown>,
      signal,
      metadata,
      observer,
      (aborted) => this.#aborted(aborted),
    ) as Promise<Result<Reply, Error> | Duplicate>;
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
    (this.#stopHooks ??= {}).detachSignal = onAbort(signal, () => void this.stop());
  }

  async #finish(): Promise<void> {
    this.#stopHooks?.detachSignal?.();
    if (this.#busy) {
      await new Promise<void>((resolve) => ((this.#stopHooks ??= {}).idle = resolve));
    }
    await this.#snapshots?.settled();
  }

  #name(): string {
    return `${this.#config.entity.typeName}/${this.id}`;
  }

  #aborted(signal: AbortSignal): HandleCommandError {
    return commandFailure(this.#name(), `aborted before it ran`, "aborted", signal.reason);
  }

  // The hot path avoids async functions: a command whose effect needs no I/O settles without
  // a microtask of its own, and an emit costs the log's promise plus one then(). A promise
  // returned by #process has already called #next() by the time it settles.
  #runFirst<Reply, Error>(
    command: Command<State, Event, Reply, Error>,
    signal: AbortSignal | undefined,
    metadata: EventMetadata,
    observer: ObservedCommand | undefined,
  ): Promise<Answer<Reply, Error>> {
    let outcome: Answer<Reply, Error> | Promise<Answer<Reply, Error>>;
    try {
      outcome = this.#process(command, signal, metadata, observer);
    } catch (error) {
      this.#next();
      return Promise.reject(error);
    }
    if (outcome instanceof Promise) return outcome;
    this.#next();
    return Promise.resolve(outcome);
  }

  // The one place that decides what runs next: queued commands in order until one needs I/O
  // (its settlement calls #next again) or the mailbox is empty; then the entity is idle.
  #next(): void {
    const mailbox = this.#mailbox;
    for (let waiting = mailbox?.take(); waiting !== undefined; waiting = mailbox!.take()) {
      let outcome: Answer<unknown, unknown> | Promise<Answer<unknown, unknown>>;
      const observer = waiting.observer;
      observer?.started();
      try {
        outcome = this.#process(
          waiting.command as Command<State, Event, unknown, unknown>,
          waiting.signal,
          waiting.metadata,
          observer,
        );
      } catch (error) {
        waiting.reject(error);
        continue;
      }
      if (outcome instanceof Promise) {
        outcome.then(waiting.resolve, waiting.reject);
        return;
      }
      waiting.resolve(outcome);
    }
    this.#busy = false;
    const idle = this.#stopHooks?.idle;
    if (idle !== undefined) {
      this.#stopHooks!.idle = undefined;
      idle();
    }
  }

  #process<Reply, Error>(
    command: Command<State, Event, Reply, Error>,
    signal: AbortSignal | undefined,
    metadata: EventMetadata,
    observer: ObservedCommand | undefined,
  ): Answer<Reply, Error> | Promise<Answer<Reply, Error>> {
    if (this.#needsResync || (metadata.commandId !== undefined && this.#idsMissing())) {
      return this.#prepare(signal, metadata).then(
        () => this.#decidePrepared(command, signal, metadata, observer),
        (error) => {
          this.#next();
          throw error;
        },
      );
    }
    return this.#decide(command, signal, metadata, observer);
  }

  // Whether the command ids of some events in the window were not read yet.
  #idsMissing(): boolean {
    const window = this.#config.deduplicationWindow;
    const knownFrom = this.#commandIds?.knownFrom ?? 1;
    return window > 0 && knownFrom > Math.max(1, this.#seqNo - window + 1);
  }

  async #prepare(signal: AbortSignal | undefined, metadata: EventMetadata): Promise<void> {
    if (this.#needsResync) await this.#resync(signal);
    if (metadata.commandId !== undefined && this.#idsMissing()) await this.#readEarlierIds(signal);
  }

  async #readEarlierIds(signal: AbortSignal | undefined): Promise<void> {
    const config = this.#config;
    const from = Math.max(1, this.#seqNo - config.deduplicationWindow + 1);
    try {
      const earlier = await readCommandIds(
        config.eventLog,
        config.entity.typeName,
        this.id,
        from,
        this.#commandIds!.knownFrom,
        signal,
      );
      this.#commandIds!.addEarlier(earlier, from);
    } catch (cause) {
      throw commandFailure(
        this.#name(),
        `reading the command ids of the events before the snapshot failed`,
        "resync-failed",
        cause,
      );
    }
  }

  #decidePrepared<Reply, Error>(
    command: Command<State, Event, Reply, Error>,
    signal: AbortSignal | undefined,
    metadata: EventMetadata,
    observer: ObservedCommand | undefined,
  ): Answer<Reply, Error> | Promise<Answer<Reply, Error>> {
    let outcome: Answer<Reply, Error> | Promise<Answer<Reply, Error>>;
    try {
      outcome = this.#decide(command, signal, metadata, observer);
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
    metadata: EventMetadata,
    observer: ObservedCommand | undefined,
  ): Answer<Reply, Error> | Promise<Answer<Reply, Error>> {
    const commandId = metadata.commandId;
    if (commandId !== undefined) {
      const seqNo = this.#commandIds?.find(commandId, this.#seqNo);
      if (seqNo !== undefined) return { ok: true, duplicate: true, value: undefined, seqNo };
    }
    let effect: CommandEffect<State, Event, Reply, Error>;
    try {
      effect = command.handleCommand(this.id, this.#state, metadata);
    } catch (cause) {
      throw commandFailure(
        this.#name(),
        `the command handler threw`,
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
        if (isValidEmit(effect.events, effect.makeReply)) {
          return this.#emit(effect.events, effect.makeReply, signal, metadata, observer);
        }
        // falls through: a hand-built emit effect of the wrong shape
      default:
        throw commandFailure(
          this.#name(),
          `the command handler ${effectProblem(effect)}`,
          "command-handler-threw",
        );
    }
  }

  #emit<Reply>(
    events: readonly Event[],
    makeReply: ((state: State) => Reply) | undefined,
    signal: AbortSignal | undefined,
    metadata: EventMetadata,
    observer: ObservedCommand | undefined,
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
      throw commandFailure(
        this.#name(),
        `encoding an event failed, nothing was written`,
        "encode-failed",
        cause,
      );
    }
    const previous = this.#seqNo;
    // What the observer adds (a trace context) is stored; the command's own metadata, which
    // the handler saw, keeps deciding deduplication.
    const stored = observer === undefined ? metadata : observer.persisting(events.length, metadata);
    let persisting: Promise<number>;
    try {
      persisting = config.eventLog.persist(
        config.entity.typeName,
        this.id,
        previous === 0 ? null : previous,
        bytes,
        signal === undefined && stored === EMPTY_METADATA
          ? config.persistOptions
          : { signal, metadata: stored, version: config.binarize.eventVersion },
      );
    } catch (cause) {
      persisting = Promise.reject(cause);
    }
    return persisting.then(
      (seqNo) => {
        observer?.persisted(seqNo);
        try {
          return this.#applied(events, makeReply, previous, seqNo, metadata.commandId);
        } finally {
          this.#next();
        }
      },
      (cause) => {
        this.#needsResync = true;
        this.#next();
        throw persistFailure(this.#name(), cause, events.length, previous);
      },
    );
  }

  #applied<Reply>(
    events: readonly Event[],
    makeReply: ((state: State) => Reply) | undefined,
    previous: number,
    seqNo: number,
    commandId: string | undefined,
  ): Result<Reply, never> {
    const config = this.#config;
    if (seqNo !== previous + events.length) {
      this.#needsResync = true;
      throw commandFailure(
        this.#name(),
        `the event log answered seqNo ${seqNo}, expected ${previous + events.length}`,
        "persist-failed",
      );
    }
    let state = this.#state;
    try {
      for (let i = 0; i < events.length; i++) state = config.entity.handleEvent(state, events[i]!);
    } catch (cause) {
      this.#needsResync = true;
      throw commandFailure(
        this.#name(),
        `the event handler threw after the events were persisted`,
        "event-handler-threw",
        cause,
      );
    }
    this.#state = state;
    this.#seqNo = seqNo;
    if (commandId !== undefined && config.deduplicationWindow > 0) {
      (this.#commandIds ??= new CommandIds(config.deduplicationWindow)).record(commandId, seqNo);
    }
    const every = config.snapshotAfter;
    if (every !== undefined && Math.floor(seqNo / every) > Math.floor(previous / every)) {
      (this.#snapshots ??= new SnapshotSaver({
        snapshotStore: config.snapshotStore!,
        binarize: config.binarize,
        typeName: config.entity.typeName,
        id: this.id,
        onError: config.onError,
      })).schedule(state, seqNo);
    }
    return { ok: true, value: this.#makeReply(makeReply, state) };
  }

  #makeReply<Reply>(makeReply: ((state: State) => Reply) | undefined, state: State): Reply {
    if (makeReply === undefined) return undefined as Reply;
    try {
      return makeReply(state);
    } catch (cause) {
      throw commandFailure(this.#name(), `the reply function threw`, "reply-failed", cause);
    }
  }

  async #resync(signal: AbortSignal | undefined): Promise<void> {
    try {
      const replayed = await replay(this, this.#state, this.#seqNo, signal, this.#commandIds);
      this.#state = replayed.state;
      this.#seqNo = replayed.seqNo;
      this.#commandIds = replayed.commandIds;
      this.#needsResync = false;
    } catch (cause) {
      throw commandFailure(
        this.#name(),
        `re-reading the log after a failed write failed`,
        "resync-failed",
        cause,
      );
    }
  }
}
