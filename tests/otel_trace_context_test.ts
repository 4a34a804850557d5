// The W3C Trace Context headers as opentelemetry/ writes and reads them
// (https://www.w3.org/TR/trace-context/#traceparent-header).

import { test } from "node:test";
import assert from "node:assert/strict";
import { createTraceState, TraceFlags } from "@opentelemetry/api";
import { formatTraceparent, parseTraceContext } from "../opentelemetry/_trace_context.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";
const VALID = `00-${TRACE_ID}-${SPAN_ID}-01`;

test("a span context is written as a version 00 traceparent", () => {
  assert.equal(
    formatTraceparent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED }),
    VALID,
  );
  assert.equal(
    formatTraceparent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.NONE }),
    `00-${TRACE_ID}-${SPAN_ID}-00`,
  );
});

test("a valid traceparent reads back as a remote span context, with its tracestate", () => {
  assert.deepEqual(parseTraceContext(VALID, undefined), {
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    traceFlags: 1,
    isRemote: true,
  });
  const parsed = parseTraceContext(` ${VALID} `, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  assert.equal(parsed?.traceState?.get("rojo"), "00f067aa0ba902b7");
  assert.equal(parsed?.traceState?.serialize(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  const written = formatTraceparent(parsed!);
  assert.equal(written, VALID);
});

test("a later version is read by the version 00 format, with its extra fields ignored", () => {
  assert.equal(
    parseTraceContext(`cc-${TRACE_ID}-${SPAN_ID}-01-what-comes-next`, undefined)?.spanId,
    SPAN_ID,
  );
  assert.equal(parseTraceContext(`cc-${TRACE_ID}-${SPAN_ID}-01`, undefined)?.traceId, TRACE_ID);
  assert.equal(parseTraceContext(`cc-${TRACE_ID}-${SPAN_ID}-01x`, undefined), undefined);
});

test("invalid traceparents are ignored", () => {
  const invalid = [
    "",
    `ff-${TRACE_ID}-${SPAN_ID}-01`, // version ff is forbidden
    `00-${TRACE_ID}-${SPAN_ID}-01-extra`, // version 00 has exactly four fields
    `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`, // lowercase hex only
    `00-${"0".repeat(32)}-${SPAN_ID}-01`, // all-zero trace id
    `00-${TRACE_ID}-${"0".repeat(16)}-01`, // all-zero parent id
    `00-${TRACE_ID.slice(1)}-${SPAN_ID}0-01`, // fields of the wrong length
    `00_${TRACE_ID}_${SPAN_ID}_01`, // wrong separators
    `00-${TRACE_ID}-${SPAN_ID}-0g`, // flags not hex
    `0-${TRACE_ID}-${SPAN_ID}-01`,
  ];
  for (const value of invalid) assert.equal(parseTraceContext(value, undefined), undefined, value);
});

test("an invalid tracestate is dropped and the traceparent still counts", () => {
  const parsed = parseTraceContext(VALID, "=no key at all");
  assert.equal(parsed?.spanId, SPAN_ID);
  assert.equal(parsed?.traceState, undefined);
  assert.equal(createTraceState("a=1").serialize(), "a=1", "the API's parser is what reads it");
});
