// The summary of the SQL scale ladder: every size in one table (library and raw side by side,
// each size's rate as a share of the smallest size's), and the ASCII chart of rate against size.

import { asciiChart, bytes, cell, printTable, size } from "./_scale_report.ts";

type Latency = { p50: number; p99: number };

/** What the SQL ladder measured at one size. */
export interface SqlSizeResult {
  events: number;
  /** The log's head position when the measures ended (they append to it). */
  measuredUpTo: number;
  fill: { library: number; raw: number; seconds: number; rawSeconds: number };
  sequential: [number, number];
  concurrent: [number, number];
  spawn: { library: Latency; raw: Latency };
  spawnSnapshot: { library: Latency; raw: Latency };
  lastSeqNo: { library: Latency; raw: Latency };
  tail: [number, number];
  catchUp: { library: number; seconds: number; raw: number };
  disk: {
    events: number;
    payload: number;
    library: { name: string; bytes: number }[];
    snapshots: { name: string; bytes: number }[];
    raw: { name: string; bytes: number }[];
    rawEvents: number;
  };
}

/** Prints the table over sizes and the chart. */
export function printSqlSummary(backend: string, results: readonly SqlSizeResult[]) {
  const first = results[0];
  if (first === undefined) return;
  const share = (value: number, base: number, higherIsBetter = true) =>
    `${(higherIsBetter ? value / base : base / value).toFixed(2)}`;
  const measures: [
    string,
    (r: SqlSizeResult) => number,
    (r: SqlSizeResult) => number,
    boolean,
    "rate" | "ms",
  ][] = [
    ["append, sequential (/s)", (r) => r.sequential[0], (r) => r.sequential[1], true, "rate"],
    ["append, 64 writers (/s)", (r) => r.concurrent[0], (r) => r.concurrent[1], true, "rate"],
    ["cold spawn p50 (ms)", (r) => r.spawn.library.p50, (r) => r.spawn.raw.p50, false, "ms"],
    ["cold spawn p99 (ms)", (r) => r.spawn.library.p99, (r) => r.spawn.raw.p99, false, "ms"],
    [
      "spawn, snapshot p50 (ms)",
      (r) => r.spawnSnapshot.library.p50,
      (r) => r.spawnSnapshot.raw.p50,
      false,
      "ms",
    ],
    [
      "spawn, snapshot p99 (ms)",
      (r) => r.spawnSnapshot.library.p99,
      (r) => r.spawnSnapshot.raw.p99,
      false,
      "ms",
    ],
    ["lastSeqNo p50 (ms)", (r) => r.lastSeqNo.library.p50, (r) => r.lastSeqNo.raw.p50, false, "ms"],
    ["eventsByType, tail (/s)", (r) => r.tail[0], (r) => r.tail[1], true, "rate"],
    ["projection catch-up (/s)", (r) => r.catchUp.library, (r) => r.catchUp.raw, true, "rate"],
  ];
  const header = [
    "measure",
    ...results.map((r) => `${size(r.events)}: library (raw)`),
    "largest, as a share of smallest",
  ];
  const last = results[results.length - 1]!;
  const rows = measures.map(([name, library, raw, higher, kind]) => [
    name,
    ...results.map((r) => `${cell(library(r), kind)} (${cell(raw(r), kind)})`),
    `${share(library(last), library(first), higher)} (raw ${share(raw(last), raw(first), higher)})`,
  ]);
  rows.push([
    "catch-up, total time (s)",
    ...results.map((r) => r.catchUp.seconds.toFixed(1)),
    "",
  ]);
  rows.push([
    "fill (events/s)",
    ...results.map((r) => `${cell(r.fill.library)} (${cell(r.fill.raw)})`),
    "",
  ]);
  const perEvent = (list: { bytes: number }[], count: number) =>
    list.reduce((s, x) => s + x.bytes, 0) / count;
  rows.push([
    "disk per event, log (raw_events) (B)",
    ...results.map((r) =>
      `${perEvent(r.disk.library, r.disk.events).toFixed(0)} (${
        perEvent(r.disk.raw, r.disk.rawEvents).toFixed(0)
      })`
    ),
    "",
  ]);
  rows.push(["log on disk", ...results.map((r) => bytes(perEvent(r.disk.library, 1))), ""]);
  printTable(
    `${backend}: every size (library, raw driver in brackets; the last column is the largest size's figure as a share of the smallest's, 1.00 meaning as fast)`,
    header,
    rows,
  );
  const series = (
    name: string,
    mark: string,
    value: (r: SqlSizeResult) => number,
    inverse = false,
  ) => ({
    name,
    mark,
    points: results.map((r) => [r.events, inverse ? 1 / value(r) : value(r)] as const),
  });
  console.log(
    `\n${backend}: rate against log size, each as a share of its rate at ${
      size(first.events)
    } events\n`,
  );
  console.log("```");
  console.log(asciiChart([
    series("append seq", "s", (r) => r.sequential[0]),
    series("raw seq", "S", (r) => r.sequential[1]),
    series("append 64", "c", (r) => r.concurrent[0]),
    series("raw 64", "C", (r) => r.concurrent[1]),
    series("spawn (1/p50)", "p", (r) => r.spawn.library.p50, true),
    series("catch-up", "u", (r) => r.catchUp.library),
  ], { low: 0.2, high: 1.8, rows: 17 }));
  console.log("```");
}
