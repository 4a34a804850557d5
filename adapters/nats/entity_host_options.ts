/**
 * Options of {@linkcode EntityHost}: the cluster it joins, the entity types it hosts, and the
 * lease settings the cluster stores when it is first created.
 *
 * @module
 */

import type { CommandFactories, CommandSet } from "../../src/command_set.ts";
import { EntityRegistry, type EntityRegistryOptions } from "../../src/entity_registry.ts";
import {
  functionOption,
  integerAtLeast,
  objectWith,
  optionMessage,
  type OptionRules,
  readOptions,
  stringOption,
} from "../../src/_options.ts";
import { quote } from "../../src/_validate.ts";
import type { Instrumentation } from "../../src/instrumentation.ts";
import { assertInstrumentation } from "../../src/_observed.ts";
import { CLUSTER_NAME, HOST_ID } from "./_cluster_protocol.ts";

// The entries of one host have different State and Event types: the array's element type has
// to erase them; hostedEntity checks that they fit together where the entry is made.
// deno-lint-ignore no-explicit-any
type Erased = any;

/**
 * One entity type an {@linkcode EntityHost} serves: its command set and the options of the
 * `EntityRegistry` each owned shard of the type gets (event log, binarize, snapshots,
 * passivation, mailbox size, deduplication window). Made typed by {@linkcode hostedEntity};
 * a plain object of this shape works too.
 *
 * @example A hosted counter as a plain object
 * ```ts
 * import { commandSet, emitAndReply, jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import type { HostedEntity } from "@eventsourced/eventsourced/nats";
 *
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (n: number, by: number) => n + by };
 * const counterCommands = commandSet(counter, {
 *   add: (by: number) => ({ handleCommand: () => emitAndReply(by, (n: number) => n) }),
 * });
 * const entry: HostedEntity = {
 *   commands: counterCommands,
 *   eventLog: new MemoryEventLog(),
 *   binarize: jsonBinarize<number, number>(),
 * };
 * console.assert(entry.commands.entity.typeName === "counter");
 * ```
 */
export interface HostedEntity extends EntityRegistryOptions<Erased, Erased> {
  /** The entity and its commands by name, made by `commandSet`. */
  readonly commands: CommandSet<Erased, Erased, CommandFactories<Erased, Erased>>;
}

/**
 * Pairs a command set with the registry options of its entity type, checking at compile time
 * that the event log's binarize fits the set's State and Event; returns the entry for
 * `EntityHost.start`'s `entities`.
 *
 * @example A hosted counter
 * ```ts
 * import { commandSet, emitAndReply, jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import { hostedEntity } from "@eventsourced/eventsourced/nats";
 *
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (n: number, by: number) => n + by };
 * const counterCommands = commandSet(counter, {
 *   add: (by: number) => ({ handleCommand: () => emitAndReply(by, (n: number) => n) }),
 * });
 * const entry = hostedEntity(counterCommands, {
 *   eventLog: new MemoryEventLog(),
 *   binarize: jsonBinarize<number, number>(),
 *   passivateAfter: 30_000,
 * });
 * console.assert(entry.passivateAfter === 30_000);
 * ```
 */
export function hostedEntity<State, Event, F extends CommandFactories<State, Event>>(
  commands: CommandSet<State, Event, F>,
  options: EntityRegistryOptions<State, Event>,
): HostedEntity {
  return { ...options, commands } as HostedEntity;
}

/**
 * Options of `EntityHost.start`.
 *
 * @example A host of one entity type in cluster "bank"
 * ```ts
 * import { commandSet, emitAndReply, jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import { type EntityHostOptions, hostedEntity } from "@eventsourced/eventsourced/nats";
 *
 * const account = { typeName: "account", initialState: 0, handleEvent: (n: number, by: number) => n + by };
 * const accountCommands = commandSet(account, {
 *   deposit: (p: { amount: number }) => ({ handleCommand: () => emitAndReply(p.amount, (n: number) => n) }),
 * });
 * const options: EntityHostOptions = {
 *   cluster: "bank",
 *   entities: [hostedEntity(accountCommands, { eventLog: new MemoryEventLog(), binarize: jsonBinarize<number, number>() })],
 *   leaseTtl: 5_000,
 * };
 * console.assert(options.entities.length === 1);
 * ```
 */
export interface EntityHostOptions {
  /** The cluster's name: 1 to 32 characters of A-Z, a-z, 0-9, "_" or "-". */
  cluster: string;
  /** The entity types this host serves; at least one, each type name once. */
  entities: readonly HostedEntity[];
  /** The host's id (1 to 64 characters of A-Z, a-z, 0-9, "_" or "-"); default random. */
  hostId?: string | undefined;
  /**
   * Shards per entity type (1 to 4096), default 64. Stored with the cluster when it is first
   * created; a host started later with a different explicit value is refused.
   */
  shards?: number | undefined;
  /**
   * Milliseconds a shard's lease lasts without renewal (1 000 to 600 000), default 10 000: the
   * longest a crashed host's shards stay unserved. Stored with the cluster like `shards`.
   */
  leaseTtl?: number | undefined;
  /**
   * Receives unexpected failures that fail no command (a lease renewal that failed, a
   * request that could not be answered). Default: ignored.
   */
  onError?: ((error: unknown) => void) | undefined;
  /**
   * Hooks given to the entities of every hosted type that has no `instrumentation` of its own
   * (`openTelemetry()` of `@eventsourced/eventsourced/opentelemetry`: a command that came
   * from an instrumented `EntityClient` is a child of its send span). Default: none.
   */
  instrumentation?: Instrumentation | undefined;
}

/**
 * Options of `EntityHost.stop`.
 *
 * @example Give the handover five seconds
 * ```ts
 * import type { EntityHostStopOptions } from "@eventsourced/eventsourced/nats";
 *
 * const options: EntityHostStopOptions = { timeout: 5_000 };
 * console.assert(options.timeout === 5_000);
 * ```
 */
export interface EntityHostStopOptions {
  /**
   * Milliseconds to wait for owned shards to finish their commands and be released, default
   * 30 000; shards not released by then are abandoned (their leases expire).
   */
  timeout?: number | undefined;
}

/** One hosted type as the host uses it. */
export interface HostedType {
  readonly typeName: string;
  readonly commands: CommandSet<Erased, Erased, CommandFactories<Erased, Erased>>;
  readonly registryOptions: EntityRegistryOptions<Erased, Erased>;
}

/** The options of a host, checked and with defaults; `shards`/`leaseTtl` only when given. */
export interface ReadHostOptions {
  readonly cluster: string;
  readonly types: readonly HostedType[];
  readonly hostId: string;
  readonly shards: number | undefined;
  readonly leaseTtl: number | undefined;
  readonly onError: (error: unknown) => void;
}

/** Default shards per type of a new cluster. */
export const DEFAULT_SHARDS = 64;
/** Default lease time of a new cluster, ms. */
export const DEFAULT_LEASE_TTL = 10_000;
const MAX_SHARDS = 4096;
const MIN_LEASE_TTL = 1_000;
const MAX_LEASE_TTL = 600_000;
const WHERE = "EntityHost";

const hostOptionRules: OptionRules<EntityHostOptions> = {
  cluster: stringOption(
    undefined as unknown as string,
    CLUSTER_NAME,
    'a string of 1 to 32 characters of A-Z, a-z, 0-9, "_" or "-"',
  ),
  entities: {
    default: undefined as unknown as readonly HostedEntity[],
    valid: (value) => Array.isArray(value) && value.length > 0,
    expected: "a non-empty array of hosted entities",
  },
  hostId: stringOption(
    undefined,
    HOST_ID,
    'a string of 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-"',
  ),
  shards: {
    default: undefined,
    valid: (value) =>
      Number.isSafeInteger(value) && (value as number) >= 1 &&
      (value as number) <= MAX_SHARDS,
    expected: `an integer from 1 to ${MAX_SHARDS}`,
  },
  leaseTtl: {
    default: undefined,
    valid: (value) =>
      Number.isSafeInteger(value) && (value as number) >= MIN_LEASE_TTL &&
      (value as number) <= MAX_LEASE_TTL,
    expected: `an integer from ${MIN_LEASE_TTL} to ${MAX_LEASE_TTL} (ms)`,
  },
  onError: functionOption(undefined),
  instrumentation: objectWith(undefined, [], "an Instrumentation (an object of hooks)"),
};

const stopOptionRules: OptionRules<EntityHostStopOptions> = {
  timeout: integerAtLeast(0, 30_000),
};

function ignore(): void {}

function randomHostId(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 16);
}

/**
 * Reads and checks the options of `EntityHost.start` before anything is sent: unknown keys,
 * bad values, entries that are not a command set with valid registry options, and a type
 * name given twice are refused with a TypeError or RangeError naming what is wrong.
 */
export function readHostOptions(given: unknown): ReadHostOptions {
  const read = readOptions(WHERE, given, hostOptionRules);
  if (read.cluster === undefined) {
    throw new TypeError(
      `Missing ${WHERE} option cluster: expected ${hostOptionRules.cluster.expected}`,
    );
  }
  if (read.entities === undefined) {
    throw new TypeError(
      `Missing ${WHERE} option entities: expected ${hostOptionRules.entities.expected}`,
    );
  }
  assertInstrumentation(WHERE, read.instrumentation);
  const types: HostedType[] = [];
  read.entities.forEach((entry, index) => {
    const type = readHostedEntity(entry, index, read.instrumentation);
    const twice = types.find((known) => known.typeName === type.typeName);
    if (twice !== undefined) {
      throw new TypeError(
        `Invalid ${WHERE} option entities[${index}]: entity type "${type.typeName}" is already hosted by entities[${
          types.indexOf(twice)
        }]`,
      );
    }
    types.push(type);
  });
  return {
    cluster: read.cluster,
    types,
    hostId: read.hostId ?? randomHostId(),
    shards: read.shards,
    leaseTtl: read.leaseTtl,
    onError: read.onError ?? ignore,
  };
}

/** Reads the options of `EntityHost.stop`. */
export function readStopOptions(given: unknown): { readonly timeout: number } {
  return readOptions("EntityHost.stop", given, stopOptionRules) as { timeout: number };
}

function readHostedEntity(
  entry: unknown,
  index: number,
  instrumentation: Instrumentation | undefined,
): HostedType {
  const where = `${WHERE} option entities[${index}]`;
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    throw new TypeError(`Invalid ${where} ${quote(entry)}: expected an object`);
  }
  const { commands, ...own } = entry as HostedEntity;
  const registryOptions = instrumentation === undefined || own.instrumentation !== undefined
    ? own
    : { ...own, instrumentation };
  if (
    typeof commands !== "object" || commands === null || typeof commands.codecs !== "function" ||
    typeof commands.commands !== "object" || commands.commands === null ||
    typeof commands.entity !== "object" || commands.entity === null
  ) {
    throw new TypeError(
      optionMessage(where, "commands", commands, "a command set made by commandSet"),
    );
  }
  // A registry made and dropped at once checks the options the way every shard's registry
  // will (it spawns nothing and starts no timer before its first command).
  try {
    void new EntityRegistry(commands.entity, registryOptions).close();
  } catch (error) {
    const message = (error as Error).message;
    const Kind = error instanceof RangeError ? RangeError : TypeError;
    throw new Kind(`Invalid ${where} ("${String(commands.entity.typeName)}"): ${message}`, {
      cause: error,
    });
  }
  return { typeName: commands.entity.typeName, commands, registryOptions };
}
