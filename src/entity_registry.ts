/**
 * One live entity per id, spawned on first use and passivated when idle.
 *
 * @module
 */

import type { Command } from "./command.ts";
import type { EntityRef, HandleCommandOptions, WithoutCommandId } from "./entity_ref.ts";
import type { EventSourced } from "./event_sourced.ts";
import type { Duplicate, Result } from "./result.ts";
import type { Entity, EntityConfig } from "./_entity.ts";
import { entityConfig, entityOptionRules, type SpawnOptions, spawnWithConfig } from "./spawn.ts";
import { assertId } from "./_validate.ts";
import { HandleCommandError } from "./errors.ts";
import { integerAtLeast, type OptionRules, readOptions } from "./_options.ts";
import { COMMAND_OPTION_KEYS, optionsSignal } from "./_call_options.ts";
import { reportLiveEntities } from "./_observed.ts";

/**
 * Options of an {@linkcode EntityRegistry}: those of `spawn` and the idle time.
 *
 * @example Passivate after five idle minutes
 * ```ts
 * import { EntityRegistry, type EntityRegistryOptions, jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 *
 * const entity = { typeName: "counter", initialState: 0, handleEvent: (s: number, by: number) => s + by };
 * const options: EntityRegistryOptions<number, number> = {
 *   eventLog: new MemoryEventLog(),
 *   binarize: jsonBinarize(),
 *   passivateAfter: 5 * 60_000,
 * };
 * await new EntityRegistry(entity, options).close();
 * ```
 */
export interface EntityRegistryOptions<State, Event>
  extends Omit<SpawnOptions<State, Event>, "signal"> {
  /**
   * Milliseconds without commands after which an entity is stopped and dropped from memory;
   * it is spawned again on its next command. Default 60 000; 0 never passivates.
   */
  passivateAfter?: number | undefined;
}

type Slot<State, Event> = Entity<State, Event> | Promise<Entity<State, Event>>;

// Slots a sweep looks at before it lets other work run: about a millisecond's worth.
const SWEEP_CHUNK = 10_000;

const registryOptionRules: OptionRules<EntityRegistryOptions<unknown, unknown>> = {
  ...entityOptionRules,
  passivateAfter: integerAtLeast(0, 60_000),
};

/**
 * Keeps one live entity per id of one entity type, so a server can route requests by id:
 * the first command spawns the entity (recovering it from the log), later ones reuse it, and
 * an entity idle for `passivateAfter` ms is stopped and forgotten.
 *
 * @example Route commands by id
 * ```ts
 * import { emitAndReply, EntityRegistry, jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (s: number, by: number) => s + by };
 * await using counters = new EntityRegistry(counter, {
 *   eventLog: new MemoryEventLog(),
 *   binarize: jsonBinarize(),
 * });
 * const add = (by: number) => ({ handleCommand: () => emitAndReply(by, (s: number) => s) });
 * await counters.handleCommand("a", add(2));
 * assert.deepEqual(await counters.handleCommand("a", add(3)), { ok: true, value: 5 });
 * assert.deepEqual(await counters.handleCommand("b", add(1)), { ok: true, value: 1 });
 * assert.equal(counters.size, 2);
 * ```
 */
export class EntityRegistry<State, Event> {
  readonly #config: EntityConfig<State, Event>;
  readonly #slots = new Map<string, Slot<State, Event>>();
  // Ids whose entity is stopping: a new incarnation is spawned only after the old one stopped,
  // so one id never has two live entities writing to the log.
  readonly #stopping = new Map<string, Promise<void>>();
  readonly #passivateAfter: number;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  // The sweep under way: where it is in the slots, and the timer of its next chunk.
  #walk: MapIterator<[string, Slot<State, Event>]> | undefined;
  #walkTimer: ReturnType<typeof setTimeout> | undefined;
  #tick = 0;
  #closing: Promise<void> | undefined;

  /** Creates an empty registry for `entity`; nothing is spawned yet. */
  constructor(entity: EventSourced<State, Event>, options: EntityRegistryOptions<State, Event>) {
    const read = readOptions(
      "EntityRegistry",
      options,
      registryOptionRules,
    ) as EntityRegistryOptions<
      State,
      Event
    >;
    this.#config = entityConfig(entity, read, "EntityRegistry");
    this.#passivateAfter = read.passivateAfter!;
  }

  /** How many entities are live or being spawned. */
  get size(): number {
    return this.#slots.size;
  }

  /**
   * The live entity `id`, spawned (and recovered) on first use; concurrent calls share one
   * spawn. A ref kept past its idle time may have been passivated: prefer
   * {@linkcode EntityRegistry.handleCommand}.
   */
  get(id: string): Promise<EntityRef<State, Event>> {
    return this.#entity(id);
  }

  /**
   * Sends `command` to entity `id`, spawning it first when it is not live. While `id` is
   * being passivated the command waits for the old entity to stop and goes to a new one.
   */
  handleCommand<Reply, Error>(
    id: string,
    command: Command<State, Event, Reply, Error>,
    options?: WithoutCommandId,
  ): Promise<Result<Reply, Error>>;
  handleCommand<Reply, Error>(
    id: string,
    command: Command<State, Event, Reply, Error>,
    options?: HandleCommandOptions,
  ): Promise<Result<Reply, Error> | Duplicate>;
  async handleCommand<Reply, Error>(
    id: string,
    command: Command<State, Event, Reply, Error>,
    options?: HandleCommandOptions,
  ): Promise<Result<Reply, Error> | Duplicate> {
    if (options !== undefined) optionsSignal("handleCommand", options, COMMAND_OPTION_KEYS);
    const slot = this.#slots.get(id);
    let entity = slot === undefined || slot instanceof Promise || slot.stopping
      ? await this.#entity(id)
      : slot;
    // Passivated while this command waited for the spawn: on to the next incarnation.
    while (entity.stopping) entity = await this.#entity(id);
    entity.lastUsed = this.#tick;
    return entity.handleCommand(command, options);
  }

  /**
   * Stops entity `id` if it is live (after its queued commands) and forgets it; a command
   * sent meanwhile goes to a new incarnation once this one has stopped.
   */
  passivate(id: string): Promise<void> {
    const slot = this.#slots.get(id);
    if (slot === undefined) return this.#stopping.get(id) ?? Promise.resolve();
    this.#slots.delete(id);
    return this.#retire(id, slot);
  }

  /** Stops every entity (after their queued commands) and refuses further commands. */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      this.#stopSweeper();
      const slots = [...this.#slots.values()];
      this.#slots.clear();
      await Promise.allSettled([
        ...slots.map(async (slot) => this.#stopped(await slot, false)),
        ...this.#stopping.values(),
      ]);
    })();
  }

  /** Same as {@linkcode EntityRegistry.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // Stops an entity already taken out of the slots and remembers the stop until it is done.
  #retire(id: string, slot: Slot<State, Event>, passivated = false): Promise<void> {
    const stopped: Promise<void> = Promise.resolve(slot).then(
      (entity) => this.#stopped(entity, passivated),
      () => {}, // a spawn that failed left nothing to stop
    ).finally(() => {
      if (this.#stopping.get(id) === stopped) this.#stopping.delete(id);
    });
    this.#stopping.set(id, stopped);
    return stopped;
  }

  // Stops a live entity and reports one fewer.
  async #stopped(entity: Entity<State, Event>, passivated: boolean): Promise<void> {
    await entity.stop();
    const config = this.#config;
    reportLiveEntities(
      config.instrumentation,
      config.onError,
      config.entity.typeName,
      -1,
      passivated,
    );
  }

  #closed(id: string): HandleCommandError {
    return new HandleCommandError(
      `Cannot use "${this.#config.entity.typeName}/${id}": the registry is closed`,
      { reason: "stopped" },
    );
  }

  #entity(id: string): Promise<Entity<State, Event>> {
    if (this.#closing !== undefined) return Promise.reject(this.#closed(id));
    const slot = this.#slots.get(id);
    if (slot !== undefined) {
      if (slot instanceof Promise) return slot;
      if (!slot.stopping) return Promise.resolve(slot);
      // Stopped through a ref from get(): treated as a passivation in progress.
      this.#slots.delete(id);
      void this.#retire(id, slot);
    }
    try {
      assertId(id);
    } catch (error) {
      return Promise.reject(error);
    }
    const previous = this.#stopping.get(id);
    const spawned = previous === undefined
      ? spawnWithConfig(this.#config, id, undefined)
      : previous.then(() => {
        if (this.#closing !== undefined) throw this.#closed(id);
        return spawnWithConfig(this.#config, id, undefined);
      });
    const spawning = spawned.then(
      (entity) => {
        const config = this.#config;
        reportLiveEntities(
          config.instrumentation,
          config.onError,
          config.entity.typeName,
          1,
          false,
        );
        if (this.#slots.get(id) === spawning) this.#slots.set(id, entity);
        entity.lastUsed = this.#tick;
        return entity;
      },
      (error) => {
        if (this.#slots.get(id) === spawning) this.#slots.delete(id);
        throw error;
      },
    );
    this.#slots.set(id, spawning);
    this.#startSweeper();
    return spawning;
  }

  // One timer per registry, ticking at a quarter of the idle time: an entity whose last use
  // is more than four ticks old has been idle for at least passivateAfter ms.
  #startSweeper(): void {
    if (this.#sweeper !== undefined || this.#passivateAfter === 0) return;
    const timer = setInterval(() => this.#sweep(), Math.max(1, this.#passivateAfter / 4));
    (timer as { unref?: () => void }).unref?.();
    this.#sweeper = timer;
  }

  #stopSweeper(): void {
    if (this.#walkTimer !== undefined) clearTimeout(this.#walkTimer);
    this.#walkTimer = undefined;
    this.#walk = undefined;
    if (this.#sweeper === undefined) return;
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  #sweep(): void {
    ++this.#tick;
    // A sweep still walking goes on with the new tick; a new one starts at the first slot.
    if (this.#walk !== undefined) return;
    this.#walk = this.#slots.entries();
    this.#sweepSome();
  }

  // Looks at SWEEP_CHUNK slots, then lets other work run before the next chunk: one pass over
  // every live entity would hold the event loop for as long as there are entities. Slots added
  // during the walk come at its end (and are fresh); deleted ones are passed over.
  #sweepSome(): void {
    this.#walkTimer = undefined;
    const walk = this.#walk;
    if (walk === undefined) return;
    const tick = this.#tick;
    for (let seen = 0; seen < SWEEP_CHUNK; seen++) {
      const next = walk.next();
      if (next.done) {
        this.#walk = undefined;
        if (this.#slots.size === 0) this.#stopSweeper();
        return;
      }
      const [id, slot] = next.value;
      if (slot instanceof Promise || slot.busy || tick - slot.lastUsed <= 4) continue;
      this.#slots.delete(id);
      void this.#retire(id, slot, true);
    }
    const timer = setTimeout(() => this.#sweepSome(), 0);
    (timer as { unref?: () => void }).unref?.();
    this.#walkTimer = timer;
  }
}
