// The W3C Trace Context headers (https://www.w3.org/TR/trace-context/), written and read here
// because the API's propagator lives in @opentelemetry/core, which this package does not
// depend on. A value that breaks the format is ignored, as the spec asks of a receiver.

import { createTraceState, isSpanContextValid, type SpanContext } from "@opentelemetry/api";

const HEX_LC = /^[0-9a-f]+$/;
const VERSION_00_LENGTH = 55;

/** The `traceparent` header of `spanContext` (version 00). */
export function formatTraceparent(spanContext: SpanContext): string {
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, "0");
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

/**
 * The remote span context that `traceparent` (and `tracestate`, when given and valid) carry;
 * `undefined` when `traceparent` is not a valid header.
 */
export function parseTraceContext(
  traceparent: string,
  tracestate: string | undefined,
): SpanContext | undefined {
  const value = traceparent.trim();
  const version = value.slice(0, 2);
  if (!isHex(version, 2) || version === "ff") return undefined;
  // Version 00 is exactly 55 characters; a later version may append fields after a dash.
  if (version === "00" ? value.length !== VERSION_00_LENGTH : value.length < VERSION_00_LENGTH) {
    return undefined;
  }
  if (value.length > VERSION_00_LENGTH && value[VERSION_00_LENGTH] !== "-") return undefined;
  if (value[2] !== "-" || value[35] !== "-" || value[52] !== "-") return undefined;
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (!isHex(traceId, 32) || !isHex(spanId, 16) || !isHex(flags, 2)) return undefined;
  const spanContext: SpanContext = {
    traceId,
    spanId,
    traceFlags: parseInt(flags, 16),
    isRemote: true,
  };
  // All-zero ids are invalid, which the API's check knows.
  if (!isSpanContextValid(spanContext)) return undefined;
  if (tracestate !== undefined) {
    const traceState = createTraceState(tracestate);
    if (traceState.serialize() !== "") spanContext.traceState = traceState;
  }
  return spanContext;
}

function isHex(value: string, length: number): boolean {
  return value.length === length && HEX_LC.test(value);
}
