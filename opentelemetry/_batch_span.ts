// The span of one batch (a persist batch, a projection batch): linked to the command spans
// whose trace context its metadata carry, ended with an error status when the batch failed.

import {
  type Attributes,
  type Span,
  type SpanKind,
  SpanStatusCode,
  type Tracer,
} from "@opentelemetry/api";
import type { EventMetadata } from "../src/event_metadata.ts";
import { errorText } from "../src/_error_text.ts";
import { now } from "./_clock.ts";
import { traceLinks } from "./_trace_links.ts";

/** A batch's span, started now. */
export class BatchSpan {
  readonly #span: Span;
  readonly #started = now();

  constructor(
    tracer: Tracer,
    name: string,
    kind: SpanKind.CLIENT | SpanKind.CONSUMER,
    attributes: Attributes,
    metadata: Iterable<EventMetadata>,
  ) {
    this.#span = tracer.startSpan(name, {
      kind,
      startTime: this.#started,
      attributes,
      links: traceLinks(metadata),
    });
  }

  /**
   * Ends the span with `attributes` added, and an error status when `error` is given; returns
   * its duration in seconds.
   */
  end(error: unknown, attributes?: Attributes): number {
    const ended = now();
    if (error !== undefined) {
      this.#span.setStatus({ code: SpanStatusCode.ERROR, message: errorText(error) });
    }
    if (attributes !== undefined) this.#span.setAttributes(attributes);
    this.#span.end(ended);
    return (ended - this.#started) / 1000;
  }
}
