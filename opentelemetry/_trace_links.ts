// Links from a batch span to the spans that wrote its events or persists: each metadata's W3C
// `traceparent` header, once per distinct span, as the command span put it there.

import type { Link } from "@opentelemetry/api";
import type { EventMetadata } from "../src/event_metadata.ts";
import { parseTraceContext } from "./_trace_context.ts";

/** Links to the distinct spans named by the `traceparent` headers of `metadata`. */
export function traceLinks(metadata: Iterable<EventMetadata | undefined>): Link[] {
  const links: Link[] = [];
  const seen = new Set<string>();
  for (const each of metadata) {
    const headers = each?.headers;
    const traceparent = headers?.traceparent;
    if (traceparent === undefined || seen.has(traceparent)) continue;
    seen.add(traceparent);
    const context = parseTraceContext(traceparent, headers!.tracestate);
    if (context !== undefined) links.push({ context });
  }
  return links;
}
