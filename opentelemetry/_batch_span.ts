// The span of one batch (a persist batch, a projection batch): the root of a trace of its own,
// since a batch serves many commands and whatever context was active when it was scheduled is
// no more its parent than any other; linked instead to the command spans whose trace context
// its metadata carry. Ended with an error status when the batch failed.

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

/** A batch's span, started now; without a tracer only its duration is measured. */
export class BatchSpan {
  readonly #span: Span | undefined;
  readonly #started = now();

  constructor(
    tracer: Tracer | undefined,
    name: string,
    kind: SpanKind.CLIENT | SpanKind.CONSUMER,
    attributes: Attributes,
    metadata: Iterable<EventMetadata>,
  ) {
    this.#span = tracer?.startSpan(name, {
      kind,
      root: true,
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
    const span = this.#span;
    if (span !== undefined) {
      if (error !== undefined) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorText(error) });
      }
      if (attributes !== undefined) span.setAttributes(attributes);
      span.end(ended);
    }
    return (ended - this.#started) / 1000;
  }
}
