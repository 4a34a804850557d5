// Where a command's or a spawn's span hangs: under the caller's active span, else under the
// trace context a caller put in the command's metadata.

import { type Context, context, trace } from "@opentelemetry/api";
import type { EventMetadata } from "../src/event_metadata.ts";
import { parseTraceContext } from "./_trace_context.ts";

/**
 * The active context when it holds a span, else the W3C trace context in the metadata's
 * `traceparent`/`tracestate` headers (how the cluster's hop and HTTP callers carry it), else
 * the active context as it is.
 */
export function parentContext(metadata: EventMetadata | undefined): Context {
  const active = context.active();
  if (trace.getSpan(active) !== undefined) return active;
  const headers = metadata?.headers;
  const traceparent = headers?.traceparent;
  if (traceparent === undefined) return active;
  const remote = parseTraceContext(traceparent, headers!.tracestate);
  return remote === undefined ? active : trace.setSpanContext(active, remote);
}
