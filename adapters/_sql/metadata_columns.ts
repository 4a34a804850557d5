// How an event's version and metadata go into the SQL columns of schema version 2 and come back
// with a page (packed_page.ts). Absent fields are null columns. A page carries the metadata of
// its events that have any as one text, event after event, each `RS command_id US
// correlation_id US causation_id US headers` (RS: U+001E, US: U+001F; an absent id is empty,
// absent headers too; headers as jsonb prints them). Metadata never holds control characters
// and ids are never empty (event_metadata.ts), so the text splits back exactly. The server builds it with text concatenation and sends it as a text column (a
// bytea would travel hex-encoded in the drivers' text format, twice its size), so the driver
// decodes it once per page; it starts with RS, so a driver whose decoder drops a leading
// U+FEFF cannot take one from an id. Half the server's work and a fraction of the reader's
// that a JSON value per event cost (bench/README.md).

import { EMPTY_METADATA, type EventMetadata } from "../../src/event_metadata.ts";

/** The column values of one persist: version, command, correlation and causation ids, headers. */
export type MetadataParams = [number, string | null, string | null, string | null, string | null];

/** Whether a persist stores more than what its rows get by default (version 1, no metadata). */
export function hasMetadata(version: number, metadata: EventMetadata): boolean {
  return version !== 1 || metadata !== EMPTY_METADATA;
}

/** The column values of a persist with checked `version` and `metadata` (readPersistOptions). */
export function metadataParams(version: number, metadata: EventMetadata): MetadataParams {
  const headers = metadata.headers;
  return [
    version,
    metadata.commandId ?? null,
    metadata.correlationId ?? null,
    metadata.causationId ?? null,
    headers === undefined ? null : JSON.stringify(headers),
  ];
}

/** About how many bytes `metadata` adds to a batch (UTF-16 units of its values). */
export function metadataSize(metadata: EventMetadata): number {
  if (metadata === EMPTY_METADATA) return 0;
  let size = (metadata.commandId?.length ?? 0) + (metadata.correlationId?.length ?? 0) +
    (metadata.causationId?.length ?? 0);
  const headers = metadata.headers;
  if (headers !== undefined) {
    for (const name in headers) size += name.length + headers[name]!.length;
  }
  return size;
}

/**
 * An SQL expression over the columns of an events row: the text of its metadata as above,
 * without the leading RS; empty when it has none.
 */
export const METADATA_TEXT = `case when command_id is null and correlation_id is null
    and causation_id is null and headers is null then ''
  else coalesce(command_id, '') || E'\\x1f' || coalesce(correlation_id, '') || E'\\x1f'
    || coalesce(causation_id, '') || E'\\x1f' || coalesce(headers::text, '') end`;

/**
 * An SQL aggregate over the rows `p` of a page in `key` order, where `filter` holds: the
 * non-empty {@linkcode METADATA_TEXT}s, each after an RS; null when there are none.
 */
export function pageMetadataSql(key: string, filter: string): string {
  return `E'\\x1e' || string_agg(p.metadata, E'\\x1e' order by p.${key})
    filter (where ${filter} and p.metadata <> '')`;
}

const RECORD = "\u001e";
const UNIT = "\u001f";

/**
 * Reads the metadata of a page's events that have any, in order, from
 * {@linkcode pageMetadataSql}'s text (`null`: none).
 */
export class PageMetadata {
  readonly #text: string;
  #at = 1; // after the RS before the first record
  #lastStart = 0;
  #lastLength = -1;
  #last: EventMetadata = EMPTY_METADATA;

  constructor(text: string | null) {
    this.#text = text ?? "";
  }

  /** The metadata of the next event that has any; throws when there is none left. */
  next(): EventMetadata {
    const text = this.#text;
    const start = this.#at;
    if (start > text.length) throw new Error("A packed page has fewer metadata than events");
    let end = text.indexOf(RECORD, start);
    if (end < 0) end = text.length;
    this.#at = end + 1;
    // The events of one persist share their metadata: unpack it once per run.
    if (end - start !== this.#lastLength || !sameText(text, this.#lastStart, start, end - start)) {
      this.#last = unpackMetadata(text, start, end);
      this.#lastStart = start;
      this.#lastLength = end - start;
    }
    return this.#last;
  }

  /** Whether every metadata was read. */
  done(): boolean {
    return this.#at > this.#text.length;
  }
}

function sameText(text: string, a: number, b: number, length: number): boolean {
  for (let i = 0; i < length; i++) {
    if (text.charCodeAt(a + i) !== text.charCodeAt(b + i)) return false;
  }
  return true;
}

/**
 * The metadata of one event from its text, `text` from `start` to `end`: a frozen object of
 * the fields present, headers a frozen object sorted by name.
 */
function unpackMetadata(text: string, start: number, end: number): EventMetadata {
  const first = text.indexOf(UNIT, start);
  const second = text.indexOf(UNIT, first + 1);
  const third = text.indexOf(UNIT, second + 1);
  if (first < 0 || third < 0 || third >= end) {
    throw new Error(`Stored event metadata of ${end - start} characters has fewer than 4 fields`);
  }
  const metadata: { -readonly [K in keyof EventMetadata]: EventMetadata[K] } = {};
  if (first > start) metadata.commandId = copy(text.slice(start, first));
  if (second > first + 1) metadata.correlationId = copy(text.slice(first + 1, second));
  if (third > second + 1) metadata.causationId = copy(text.slice(second + 1, third));
  if (third + 1 < end) {
    metadata.headers = sortedHeaders(
      JSON.parse(text.slice(third + 1, end)) as Record<string, string>,
    );
  }
  return Object.freeze(metadata);
}

// A slice of a string shares the memory of the whole (V8 and JavaScriptCore alike), and ids
// outlive their page (an entity keeps the command ids of its recent events): a copy keeps only
// the id alive, not the page's metadata.
function copy(slice: string): string {
  return (slice + " ").slice(0, -1);
}

// jsonb keeps object keys by length, then bytes; the port's headers are sorted by name.
function sortedHeaders(headers: Record<string, string>): Readonly<Record<string, string>> {
  const sorted: Record<string, string> = {};
  for (const name of Object.keys(headers).sort()) sorted[name] = headers[name]!;
  return Object.freeze(sorted);
}
