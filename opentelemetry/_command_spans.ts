// One command as a span with a child per phase (mailbox wait, decide, persist, apply and
// reply) and its metrics. While the command runs only timestamps are recorded; the spans are
// made when it ends, with explicit times. The command span itself starts earlier only when
// its events are persisted, because its trace context goes into their metadata.

import {
  type Context,
  context,
  type Span,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import type { CommandObserver, CommandOutcome } from "../src/instrumentation.ts";
import { type EventMetadata, METADATA_LIMITS } from "../src/event_metadata.ts";
import { now } from "./_clock.ts";
import type { CoreMetrics } from "./_metrics.ts";
import { COMMAND_ID, COMMAND_OUTCOME, ENTITY_ID, ENTITY_TYPE } from "./_attributes.ts";
import { formatTraceparent } from "./_trace_context.ts";
import { parentContext } from "./_parent_context.ts";

// Outcomes that are answers, not failures: the span's status stays unset.
const ANSWERS: ReadonlySet<string> = new Set(["reply", "reject", "emit", "duplicate"]);

/** Follows one command; made by the `command` hook of `openTelemetry()`. */
export class CommandSpans implements CommandObserver {
  // Undefined when no SDK records spans: then only the metrics are kept.
  readonly #tracer: Tracer | undefined;
  readonly #metrics: CoreMetrics;
  readonly #typeName: string;
  readonly #id: string;
  readonly #commandId: string | undefined;
  readonly #waiting: number;
  readonly #parent: Context | undefined;
  // Whether the parent is the trace context of the metadata's headers: the stored events then
  // name this command's span instead, the caller's span being its parent.
  readonly #parentFromHeaders: boolean;
  readonly #arrived: number;
  #started = 0;
  #persisting = 0;
  #persisted = 0;
  #events = 0;
  #seqNo = 0;
  #span: Span | undefined;

  constructor(
    tracer: Tracer | undefined,
    metrics: CoreMetrics,
    typeName: string,
    id: string,
    metadata: EventMetadata,
    waiting: number,
  ) {
    this.#tracer = tracer;
    this.#metrics = metrics;
    this.#typeName = typeName;
    this.#id = id;
    this.#commandId = metadata.commandId;
    this.#waiting = waiting;
    this.#parent = tracer === undefined ? undefined : parentContext(metadata);
    this.#parentFromHeaders = this.#parent !== undefined &&
      metadata.headers?.traceparent !== undefined &&
      trace.getSpan(context.active()) === undefined &&
      trace.getSpanContext(this.#parent)?.isRemote === true;
    this.#arrived = now();
    metrics.mailboxDepth.record(waiting, metrics.ofType(typeName));
  }

  started(): void {
    this.#started = now();
  }

  persisting(events: number, metadata: EventMetadata): EventMetadata {
    this.#persisting = now();
    this.#events = events;
    if (this.#tracer === undefined) return metadata;
    const spanContext = this.#commandSpan().spanContext();
    if (!trace.isSpanContextValid(spanContext)) return metadata;
    return withTraceContext(
      metadata,
      formatTraceparent(spanContext),
      spanContext.traceState?.serialize(),
      this.#parentFromHeaders,
    );
  }

  persisted(seqNo: number): void {
    this.#persisted = now();
    this.#seqNo = seqNo;
  }

  ended(outcome: CommandOutcome, error?: unknown): void {
    const ended = now();
    const metrics = this.#metrics;
    metrics.commandDuration.record(
      (ended - this.#arrived) / 1000,
      metrics.ofCommand(this.#typeName, outcome),
    );
    if (outcome === "mailbox-full") metrics.overloads.add(1, metrics.ofType(this.#typeName));
    if (this.#tracer === undefined) return;
    const span = this.#commandSpan();
    if (!span.isRecording()) {
      span.end(ended);
      return;
    }
    span.setAttribute(COMMAND_OUTCOME, outcome);
    span.setAttribute("eventsourced.mailbox.depth", this.#waiting);
    if (this.#commandId !== undefined) span.setAttribute(COMMAND_ID, this.#commandId);
    if (this.#events > 0) span.setAttribute("eventsourced.event.count", this.#events);
    if (this.#seqNo > 0) span.setAttribute("eventsourced.event.seq_no", this.#seqNo);
    if (!ANSWERS.has(outcome)) {
      span.setAttribute("error.type", outcome);
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : outcome,
      });
      if (error instanceof Error) span.recordException(error, ended);
    }
    this.#phases(trace.setSpan(this.#parent!, span), ended);
    span.end(ended);
  }

  // The child spans of the phases the command went through.
  #phases(parent: Context, ended: number): void {
    const started = this.#started;
    // Refused (mailbox full, stopped) or withdrawn while waiting: no phase to show.
    if (started === 0) return;
    this.#child("mailbox wait", this.#arrived, started, parent);
    const persisting = this.#persisting;
    if (persisting === 0) {
      this.#child("decide", started, ended, parent);
      return;
    }
    this.#child("decide", started, persisting, parent);
    const persisted = this.#persisted;
    this.#child("persist", persisting, persisted === 0 ? ended : persisted, parent);
    if (persisted !== 0) this.#child("apply and reply", persisted, ended, parent);
  }

  #child(name: string, start: number, end: number, parent: Context): void {
    this.#tracer!.startSpan(name, { startTime: start }, parent).end(end);
  }

  #commandSpan(): Span {
    return this.#span ??= this.#tracer!.startSpan(
      `${this.#typeName} command`,
      {
        startTime: this.#arrived,
        attributes: { [ENTITY_TYPE]: this.#typeName, [ENTITY_ID]: this.#id },
      },
      this.#parent,
    );
  }
}

// The metadata with `traceparent` (and `tracestate`) added to its headers where there is room;
// a header the user set already wins, unless it is the span's parent (`replace`).
function withTraceContext(
  metadata: EventMetadata,
  traceparent: string,
  tracestate: string | undefined,
  replace: boolean,
): EventMetadata {
  let headers = metadata.headers ?? {};
  if (replace) {
    const { traceparent: _parent, tracestate: _state, ...others } = headers;
    headers = others;
  }
  if ("traceparent" in headers) return metadata;
  let room = METADATA_LIMITS.maxHeaders - Object.keys(headers).length;
  if (room <= 0) return metadata;
  const added: Record<string, string> = { ...headers, traceparent };
  room--;
  if (tracestate !== undefined && tracestate !== "" && room > 0 && !("tracestate" in headers)) {
    added.tracestate = tracestate;
  }
  return { ...metadata, headers: added };
}
