// The version and metadata of a persist as message headers, stored with every message so each
// read returns them exactly:
//   Es-Version          the events' version, only when it is not 1
//   Es-Command-Id       metadata.commandId
//   Es-Correlation-Id   metadata.correlationId
//   Es-Causation-Id     metadata.causationId
//   Es-H-<name>         metadata.headers[name], the name as it is (NATS keeps its case)
//   Es-Written-At       the events' writtenAt in ms, only on events a store admin imported
//                       with the time of another store; read in place of the stored time
// Values go through encodeHeaderValue: NATS clients trim a value's white space and JetStream
// keeps at most 64 KiB of headers, so a value is sent as UTF-8 as it is, except '%' and white
// space at either end, which are percent-encoded (UTF-8); a value with a '%' is percent-decoded
// on the way back. That is at most 3 bytes per UTF-16 unit, so the largest metadata the limits
// allow fits.

import { EMPTY_METADATA, type EventMetadata, MAX_VERSION } from "../../src/event_metadata.ts";

/** Header with the events' version, left out when it is 1. */
export const VERSION_HEADER = "Es-Version";
/** Header of `metadata.commandId`. */
export const COMMAND_ID_HEADER = "Es-Command-Id";
/** Header of `metadata.correlationId`. */
export const CORRELATION_ID_HEADER = "Es-Correlation-Id";
/** Header of `metadata.causationId`. */
export const CAUSATION_ID_HEADER = "Es-Causation-Id";
/** Header with the writtenAt (ms) an imported message keeps, in place of its stored time. */
export const WRITTEN_AT_HEADER = "Es-Written-At";
/** Prefix of the headers of `metadata.headers`. */
export const USER_HEADER_PREFIX = "Es-H-";
/** What every header of this file starts with: a message without one has none of them. */
export const OUR_PREFIX = "Es-";

// Values NATS carries as they are: printable ASCII without '%', not starting or ending with a
// space (the empty value included).
const PLAIN = /^(?:[!-$&-~](?:[ -$&-~]*[!-$&-~])?)?$/;
// What String.prototype.trim removes is what \s matches.
const ESCAPED = /%|^\s|\s$/g;

/** `value` as a header value that NATS stores and returns unchanged. */
export function encodeHeaderValue(value: string): string {
  return PLAIN.test(value) ? value : value.replace(ESCAPED, encodeURIComponent);
}

/** The value {@linkcode encodeHeaderValue} encoded; throws a URIError on a bad escape. */
export function decodeHeaderValue(value: string): string {
  return value.includes("%") ? decodeURIComponent(value) : value;
}

/** The UTF-8 length of `text`, well-formed. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) bytes += 1;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      bytes += 2; // A pair: two units, four bytes.
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** The headers that carry `version` and `metadata` (none for version 1 and `{}`), in order. */
export function metadataHeaders(
  version: number,
  metadata: EventMetadata,
): readonly (readonly [string, string])[] {
  if (version === 1 && metadata === EMPTY_METADATA) return [];
  const fields: [string, string][] = [];
  if (version !== 1) fields.push([VERSION_HEADER, `${version}`]);
  const { commandId, correlationId, causationId, headers } = metadata;
  if (commandId !== undefined) fields.push([COMMAND_ID_HEADER, encodeHeaderValue(commandId)]);
  if (correlationId !== undefined) {
    fields.push([CORRELATION_ID_HEADER, encodeHeaderValue(correlationId)]);
  }
  if (causationId !== undefined) {
    fields.push([CAUSATION_ID_HEADER, encodeHeaderValue(causationId)]);
  }
  if (headers !== undefined) {
    for (const name in headers) {
      fields.push([USER_HEADER_PREFIX + name, encodeHeaderValue(headers[name]!)]);
    }
  }
  return fields;
}

/** The version and metadata a message's headers carry. */
export interface VersionAndMetadata {
  readonly version: number;
  readonly metadata: EventMetadata;
  /** The writtenAt an imported message keeps; absent: the message's stored time. */
  readonly writtenAt?: number | undefined;
}

/** What a message without any of these headers carries. */
export const NO_METADATA: VersionAndMetadata = Object.freeze({
  version: 1,
  metadata: EMPTY_METADATA,
});

/**
 * The version and metadata of the headers `fields` (name, value as stored), ignoring names
 * not of this file; the first of repeated names counts. Throws an Error naming a header whose
 * value is not one this file writes.
 */
export function readMetadataHeaders(
  fields: readonly (readonly [string, string])[],
): VersionAndMetadata {
  let version: number | undefined;
  let commandId: string | undefined;
  let correlationId: string | undefined;
  let causationId: string | undefined;
  let writtenAt: number | undefined;
  let userHeaders: [string, string][] | undefined;
  for (const [name, value] of fields) {
    if (!name.startsWith(OUR_PREFIX)) continue;
    if (name.startsWith(USER_HEADER_PREFIX)) {
      const key = name.slice(USER_HEADER_PREFIX.length);
      userHeaders ??= [];
      if (key !== "" && !userHeaders.some(([k]) => k === key)) {
        userHeaders.push([key, decode(name, value)]);
      }
    } else if (name === VERSION_HEADER) version ??= readVersion(value);
    else if (name === COMMAND_ID_HEADER) commandId ??= decode(name, value);
    else if (name === CORRELATION_ID_HEADER) correlationId ??= decode(name, value);
    else if (name === CAUSATION_ID_HEADER) causationId ??= decode(name, value);
    else if (name === WRITTEN_AT_HEADER) writtenAt ??= readWrittenAt(value);
  }
  const metadata: { -readonly [K in keyof EventMetadata]: EventMetadata[K] } = {};
  if (commandId !== undefined) metadata.commandId = commandId;
  if (correlationId !== undefined) metadata.correlationId = correlationId;
  if (causationId !== undefined) metadata.causationId = causationId;
  if (userHeaders !== undefined && userHeaders.length > 0) {
    // Sorted by name as readMetadata sorts them, whatever order they were stored in.
    userHeaders.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
    const headers: Record<string, string> = {};
    for (const [key, value] of userHeaders) headers[key] = value;
    metadata.headers = Object.freeze(headers);
  }
  const empty = commandId === undefined && correlationId === undefined &&
    causationId === undefined && metadata.headers === undefined;
  const read = {
    version: version ?? 1,
    metadata: empty ? EMPTY_METADATA : Object.freeze(metadata),
  };
  return writtenAt === undefined ? read : { ...read, writtenAt };
}

function readWrittenAt(value: string): number {
  const writtenAt = /^(?:0|[1-9][0-9]{0,15})$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(writtenAt)) {
    throw new Error(`header ${WRITTEN_AT_HEADER} "${value}" is not a time in milliseconds`);
  }
  return writtenAt;
}

function readVersion(value: string): number {
  const version = /^[1-9][0-9]{0,9}$/.test(value) ? Number(value) : 0;
  if (version < 1 || version > MAX_VERSION) {
    throw new Error(
      `header ${VERSION_HEADER} "${value}" is not a version from 1 to ${MAX_VERSION}`,
    );
  }
  return version;
}

function decode(name: string, value: string): string {
  try {
    return decodeHeaderValue(value);
  } catch {
    throw new Error(`header ${name} "${value}" is not percent-encoded UTF-8`);
  }
}
