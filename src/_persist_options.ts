// The options of EventLog.persist and SnapshotStore.save (signal, metadata, version), read the
// same way by every log and store: on the hot path, so a call without options allocates nothing.

import { optionsSignal } from "./_call_options.ts";
import {
  assertVersion,
  EMPTY_METADATA,
  type EventMetadata,
  readMetadata,
} from "./event_metadata.ts";

/** The options of one persist, checked, with defaults filled in. */
export interface PersistCall {
  readonly signal: AbortSignal | undefined;
  readonly metadata: EventMetadata;
  readonly version: number;
}

const PERSIST_KEYS: readonly string[] = ["signal", "metadata", "version"];
const SAVE_KEYS: readonly string[] = ["signal", "version"];

const NO_OPTIONS: PersistCall = Object.freeze({
  signal: undefined,
  metadata: EMPTY_METADATA,
  version: 1,
});

/**
 * Reads the options of `persist` (`{ signal?, metadata?, version? }` or `undefined`); throws a
 * TypeError or RangeError naming what is wrong, before any write.
 */
export function readPersistOptions(
  where: string,
  options: {
    readonly signal?: AbortSignal | undefined;
    readonly metadata?: EventMetadata | undefined;
    readonly version?: number | undefined;
  } | undefined,
): PersistCall {
  if (options === undefined) return NO_OPTIONS;
  const signal = optionsSignal(where, options, PERSIST_KEYS);
  const version = options.version ?? 1;
  if (version !== 1) assertVersion(version, `${where} option version`);
  return { signal, metadata: readMetadata(where, options.metadata), version };
}

/** Reads the options of a snapshot `save` (`{ signal?, version? }`): the signal and version. */
export function readSaveOptions(
  where: string,
  options:
    | { readonly signal?: AbortSignal | undefined; readonly version?: number | undefined }
    | undefined,
): { readonly signal: AbortSignal | undefined; readonly version: number } {
  if (options === undefined) return NO_OPTIONS;
  const signal = optionsSignal(where, options, SAVE_KEYS);
  const version = options.version ?? 1;
  if (version !== 1) assertVersion(version, `${where} option version`);
  return { signal, version };
}
