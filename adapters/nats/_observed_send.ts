// The client's side of `Instrumentation.clusterSend`: the hook's metadata is checked like a
// caller's and must keep the commandId (retries and deduplication depend on it), and a hook
// that throws or gives bad metadata never fails the send: the caller's metadata goes instead.

import type { ClusterSendObserver, Instrumentation } from "../../src/instrumentation.ts";
import { type EventMetadata, readMetadata } from "../../src/event_metadata.ts";
import { isHandleCommandError } from "../../src/errors.ts";
import type { Duplicate, Result } from "../../src/result.ts";
import { quote } from "../../src/_validate.ts";

/** A send followed by a {@linkcode ClusterSendObserver}. */
export interface ObservedSend {
  /** The metadata to send. */
  readonly metadata: EventMetadata;
  /** Reports the outcome of `result`. */
  resolved(result: Result<unknown, unknown> | Duplicate): void;
  /** Reports the failure `error`. */
  rejected(error: unknown): void;
}

/** Throws a TypeError when the `clusterSend` of `instrumentation` is given but no function. */
export function assertClusterSend(instrumentation: Instrumentation | undefined): void {
  const hook = instrumentation?.clusterSend;
  if (hook !== undefined && typeof hook !== "function") {
    throw new TypeError(
      `Invalid EntityClient option instrumentation: its clusterSend is ${
        quote(hook)
      }, expected a function`,
    );
  }
}

/** Asks `hook` for an observer of a send; `undefined` when it gives none or throws. */
export function observeSend(
  hook: NonNullable<Instrumentation["clusterSend"]>,
  typeName: string,
  id: string,
  command: string,
  metadata: EventMetadata,
): ObservedSend | undefined {
  let observer: ClusterSendObserver | undefined;
  try {
    observer = hook(typeName, id, command, metadata);
  } catch {
    return undefined;
  }
  if (observer === undefined) return undefined;
  let sent = metadata;
  try {
    const given = readMetadata("clusterSend", observer.metadata);
    if (given.commandId === metadata.commandId) sent = given;
  } catch { /* the caller's metadata goes */ }
  const end = (outcome: string, error?: unknown) => {
    try {
      if (error === undefined) observer.ended(outcome);
      else observer.ended(outcome, error);
    } catch { /* a hook must not fail the send */ }
  };
  return {
    metadata: sent,
    resolved: (result) => end("duplicate" in result ? "duplicate" : result.ok ? "reply" : "reject"),
    rejected: (error) => end(isHandleCommandError(error) ? error.reason : "error", error),
  };
}
