import type { PersistedEvent } from "../src/event_log.ts";

/** Decodes the bytes of an event of the given version, as a `--codec` module does. */
export type Decode = (bytes: Uint8Array, version: number) => unknown;

/** An event as the tool prints it: the payload as JSON where it can be, else base64. */
export interface PrintedEvent {
  readonly typeName: string;
  readonly id: string;
  readonly seqNo: number;
  readonly position: number;
  readonly version: number;
  readonly writtenAt: string;
  readonly metadata: PersistedEvent["metadata"];
  readonly encoding: "json" | "codec" | "base64";
  readonly payload: unknown;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** `bytes` as base64, in chunks so a large payload does not overflow the argument list. */
export function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * The payload of `bytes`: decoded by `decode` when given, else parsed as JSON when it is valid
 * UTF-8 JSON, else base64. A codec that throws is an error of the event (the caller names it),
 * since silently falling back would hide exactly what `--codec` is asked to check.
 */
export function payloadOf(
  bytes: Uint8Array,
  version: number,
  decode: Decode | undefined,
): Pick<PrintedEvent, "encoding" | "payload"> {
  if (decode !== undefined) return { encoding: "codec", payload: decode(bytes, version) };
  try {
    return { encoding: "json", payload: JSON.parse(strictUtf8.decode(bytes)) };
  } catch {
    return { encoding: "base64", payload: base64(bytes) };
  }
}

/** `event` as the tool prints it. */
export function printedEvent(event: PersistedEvent, decode: Decode | undefined): PrintedEvent {
  let payload: Pick<PrintedEvent, "encoding" | "payload">;
  try {
    payload = payloadOf(event.bytes, event.version, decode);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new Error(
      `Cannot decode event ${event.seqNo} of "${event.typeName}/${event.id}" ` +
        `(version ${event.version}) with the codec: ${detail}`,
      { cause },
    );
  }
  return {
    typeName: event.typeName,
    id: event.id,
    seqNo: event.seqNo,
    position: event.position,
    version: event.version,
    writtenAt: new Date(event.writtenAt).toISOString(),
    metadata: event.metadata,
    ...payload,
  };
}

/** JSON of `value` that also shows bigints (as strings) and bytes (as base64). */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_, v) => typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? base64(v) : v,
    indent,
  );
}
