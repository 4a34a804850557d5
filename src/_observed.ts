// The core's side of the instrumentation hooks: each hook is called through here, so a hook
// that throws reaches onError and never breaks a command or a spawn, and `ended` is reported
// exactly once. Only instrumented commands and spawns allocate these.

import type { CommandObserver, Instrumentation, SpawnObserver } from "./instrumentation.ts";
import type { Duplicate, Result } from "./result.ts";
import { type EventMetadata, readMetadata } from "./event_metadata.ts";
import { isHandleCommandError } from "./errors.ts";
import { quote } from "./_validate.ts";

const HOOKS = [
  "command",
  "spawn",
  "liveEntities",
  "persistBatch",
  "projectionBatch",
  "clusterSend",
] as const;

/** Checks an `instrumentation` option: an object whose hooks, when given, are functions. */
export function assertInstrumentation(where: string, value: Instrumentation | undefined): void {
  if (value === undefined) return;
  for (const hook of HOOKS) {
    const given = (value as Record<string, unknown>)[hook];
    if (given !== undefined && typeof given !== "function") {
      throw new TypeError(
        `Invalid ${where} option instrumentation: its ${hook} is ${
          quote(given)
        }, expected a function`,
      );
    }
  }
}

/** Whether `value` has any hook: one without (`{}`) is no instrumentation at all. */
export function hasHooks(value: Instrumentation | undefined): value is Instrumentation {
  return value !== undefined &&
    HOOKS.some((hook) => (value as Record<string, unknown>)[hook] !== undefined);
}

function hookFailed(onError: (error: Error) => void, hook: string, cause: unknown): void {
  try {
    onError(new Error(`Instrumentation hook ${hook} threw; the work went on`, { cause }));
  } catch {
    // onError itself threw: nothing is left to tell.
  }
}

/** A command followed by a {@linkcode CommandObserver}, whose hooks it calls safely. */
export class ObservedCommand {
  readonly #observer: CommandObserver;
  readonly #onError: (error: Error) => void;
  #persisted = false;
  #ended = false;

  private constructor(observer: CommandObserver, onError: (error: Error) => void) {
    this.#observer = observer;
    this.#onError = onError;
  }

  /** Asks the `command` hook for an observer; `undefined` when it gives none. */
  static start(
    hook: NonNullable<Instrumentation["command"]>,
    onError: (error: Error) => void,
    typeName: string,
    id: string,
    metadata: EventMetadata,
    waiting: number,
  ): ObservedCommand | undefined {
    let observer: CommandObserver | undefined;
    try {
      observer = hook(typeName, id, metadata, waiting);
    } catch (cause) {
      hookFailed(onError, "command", cause);
      return undefined;
    }
    return observer === undefined ? undefined : new ObservedCommand(observer, onError);
  }

  started(): void {
    try {
      this.#observer.started();
    } catch (cause) {
      hookFailed(this.#onError, "started", cause);
    }
  }

  /**
   * The metadata to persist: the observer's, checked like a command's own and keeping its
   * commandId (deduplication depends on it); `metadata` when the observer's is not valid.
   */
  persisting(events: number, metadata: EventMetadata): EventMetadata {
    this.#persisted = true;
    try {
      const changed = this.#observer.persisting(events, metadata);
      if (changed === metadata) return metadata;
      const checked = readMetadata("instrumentation persisting", changed);
      if (checked.commandId !== metadata.commandId) {
        throw new TypeError(
          `Invalid instrumentation persisting metadata: commandId ${
            quote(checked.commandId)
          } replaces ${quote(metadata.commandId)}`,
        );
      }
      return checked;
    } catch (cause) {
      hookFailed(this.#onError, "persisting", cause);
      return metadata;
    }
  }

  persisted(seqNo: number): void {
    try {
      this.#observer.persisted(seqNo);
    } catch (cause) {
      hookFailed(this.#onError, "persisted", cause);
    }
  }

  /** Reports the outcome of `result`, then passes it on. */
  readonly resolved = <Answer extends Result<unknown, unknown> | Duplicate>(
    result: Answer,
  ): Answer => {
    const outcome = "duplicate" in result
      ? "duplicate"
      : !result.ok
      ? "reject"
      : this.#persisted
      ? "emit"
      : "reply";
    this.#end(outcome, undefined);
    return result;
  };

  /** Reports the failure reason of `error`, then rethrows it. */
  readonly rejected = (error: unknown): never => {
    this.#end(isHandleCommandError(error) ? error.reason : "error", error);
    throw error;
  };

  #end(outcome: string, error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    try {
      this.#observer.ended(outcome, error);
    } catch (cause) {
      hookFailed(this.#onError, "ended", cause);
    }
  }
}

/** A spawn followed by a {@linkcode SpawnObserver}, whose hooks it calls safely. */
export class ObservedSpawn {
  readonly #observer: SpawnObserver;
  readonly #onError: (error: Error) => void;

  private constructor(observer: SpawnObserver, onError: (error: Error) => void) {
    this.#observer = observer;
    this.#onError = onError;
  }

  /** Asks `instrumentation.spawn` for an observer; `undefined` when it gives none. */
  static start(
    instrumentation: Instrumentation | undefined,
    onError: (error: Error) => void,
    typeName: string,
    id: string,
  ): ObservedSpawn | undefined {
    const hook = instrumentation?.spawn;
    if (hook === undefined) return undefined;
    try {
      const observer = hook(typeName, id);
      return observer === undefined ? undefined : new ObservedSpawn(observer, onError);
    } catch (cause) {
      hookFailed(onError, "spawn", cause);
      return undefined;
    }
  }

  snapshotLoaded(seqNo: number | null): void {
    try {
      this.#observer.snapshotLoaded(seqNo);
    } catch (cause) {
      hookFailed(this.#onError, "snapshotLoaded", cause);
    }
  }

  ended(events: number, error?: unknown): void {
    try {
      if (error === undefined) this.#observer.ended(events);
      else this.#observer.ended(events, error);
    } catch (cause) {
      hookFailed(this.#onError, "spawn ended", cause);
    }
  }
}

/** Calls `instrumentation.liveEntities`, if any, safely. */
export function reportLiveEntities(
  instrumentation: Instrumentation | undefined,
  onError: (error: Error) => void,
  typeName: string,
  change: 1 | -1,
  passivated: boolean,
): void {
  const hook = instrumentation?.liveEntities;
  if (hook === undefined) return;
  try {
    hook(typeName, change, passivated);
  } catch (cause) {
    hookFailed(onError, "liveEntities", cause);
  }
}
