// An entity cluster client's send as a CLIENT span `<typeName> send`, whose W3C trace context
// crosses the NATS hop in the command's metadata headers, so the host's command span is its
// child; and a histogram of send durations by entity type and outcome.

import {
  type Histogram,
  type Meter,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import type { CommandOutcome, Instrumentation } from "../src/instrumentation.ts";
import { type EventMetadata, METADATA_LIMITS } from "../src/event_metadata.ts";
import { errorText } from "../src/_error_text.ts";
import { now } from "./_clock.ts";
import { COMMAND_ID, COMMAND_OUTCOME, ENTITY_ID, ENTITY_TYPE } from "./_attributes.ts";
import { parentContext } from "./_parent_context.ts";
import { formatTraceparent } from "./_trace_context.ts";
import { attributeSets } from "./_attribute_sets.ts";
import { SECONDS_BUCKETS } from "./_metrics.ts";

// Outcomes that are answers, not failures: the span's status stays unset.
const ANSWERS: ReadonlySet<string> = new Set(["reply", "reject", "duplicate"]);

/** The `clusterSend` hook of `openTelemetry()`. */
export function clusterSendHook(
  tracer: Tracer | undefined,
  meter: Meter,
): NonNullable<Instrumentation["clusterSend"]> {
  const duration: Histogram = meter.createHistogram("eventsourced.cluster.send.duration", {
    description: "How long an entity cluster client's sends took, retries included",
    unit: "s",
    advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
  });
  const ofSend = attributeSets(ENTITY_TYPE, COMMAND_OUTCOME);
  return (typeName: string, id: string, command: string, metadata: EventMetadata) => {
    const started = now();
    const parent = tracer === undefined ? undefined : parentContext(metadata);
    const span = tracer?.startSpan(`${typeName} send`, {
      kind: SpanKind.CLIENT,
      startTime: started,
      attributes: {
        [ENTITY_TYPE]: typeName,
        [ENTITY_ID]: id,
        "eventsourced.command.name": command,
        ...(metadata.commandId === undefined ? {} : { [COMMAND_ID]: metadata.commandId }),
        "messaging.system": "nats",
      },
    }, parent);
    const spanContext = span?.spanContext();
    return {
      metadata: spanContext === undefined || !trace.isSpanContextValid(spanContext)
        ? metadata
        : withSendContext(metadata, formatTraceparent(spanContext), parent!),
      ended(outcome: CommandOutcome, error?: unknown) {
        const ended = now();
        if (span !== undefined) {
          span.setAttribute(COMMAND_OUTCOME, outcome);
          if (!ANSWERS.has(outcome)) {
            span.setStatus({
              code: SpanStatusCode.ERROR,
              message: error === undefined ? outcome : errorText(error),
            });
          }
          span.end(ended);
        }
        duration.record((ended - started) / 1000, ofSend(typeName, outcome));
      },
    };
  };
}

// The metadata with the send span's `traceparent`. A `traceparent` already there stays, unless
// it was the send's parent (no span was active): the send span, its child, then takes its place
// so the chain holds across the hop. No room left (METADATA_LIMITS): nothing crosses.
function withSendContext(
  metadata: EventMetadata,
  traceparent: string,
  parent: ReturnType<typeof parentContext>,
): EventMetadata {
  const headers = metadata.headers ?? {};
  if ("traceparent" in headers) {
    const replaced = trace.getSpanContext(parent)?.isRemote === true;
    if (!replaced) return metadata;
    const { tracestate: _, ...rest } = headers;
    return { ...metadata, headers: { ...rest, traceparent } };
  }
  if (Object.keys(headers).length >= METADATA_LIMITS.maxHeaders) return metadata;
  return { ...metadata, headers: { ...headers, traceparent } };
}
