// Output helpers of bench/scale.ts: latency samples, sizes and bytes in words, the per-size
// tables, and a plot-like ASCII chart of rate against log size.

import { quantile, rate } from "./_stats.ts";

/** p50 and p99 of `count` timed calls of `call(i)`, in milliseconds. */
export async function latencies(
  count: number,
  call: (i: number) => Promise<unknown>,
): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await call(i);
    samples.push(performance.now() - start);
  }
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99) };
}

/** Calls per second of `total` calls of `call(i)` with `concurrency` in flight at a time. */
export async function rateOf(
  total: number,
  concurrency: number,
  call: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) await call(next++);
  }));
  return total / ((performance.now() - start) / 1000);
}

/** 10k, 1M, 2.5M: a count in the short form the tables use. */
export function size(count: number): string {
  if (count >= 1e6) return `${+(count / 1e6).toFixed(2)}M`;
  if (count >= 1e3) return `${+(count / 1e3).toFixed(1)}k`;
  return String(count);
}

/** Parses a size such as `10k`, `1M` or `250000`. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  if (match === null) throw new Error(`Not a size: ${JSON.stringify(text)} (e.g. 10k, 1M)`);
  const unit = match[2]!.toLowerCase();
  return Math.round(Number(match[1]) * (unit === "k" ? 1e3 : unit === "m" ? 1e6 : 1));
}

/** A byte count in KB, MB or GB (powers of 1024). */
export function bytes(count: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** A cell: a rate with separators, or milliseconds with two decimals. */
export function cell(value: number, kind: "rate" | "ms" | "int" = "rate"): string {
  if (!Number.isFinite(value)) return "–";
  return kind === "ms" ? value.toFixed(2) : rate(value);
}

/** Prints a Markdown table: a header row and one row per entry. */
export function printTable(title: string, header: readonly string[], rows: readonly string[][]) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${
      cells.map((c, i) => i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join(" | ")
    } |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(
    `| ${widths.map((w, i) => (i === 0 ? "-".repeat(w) : "-".repeat(w - 1) + ":")).join(" | ")} |`,
  );
  for (const row of rows) console.log(line(row));
}

/** A series of an ASCII chart: a name, a mark, and (log size, value) points. */
export interface ChartSeries {
  name: string;
  mark: string;
  points: readonly (readonly [number, number])[];
}

/**
 * A plot-like chart: log size on a log-scale x axis, the value (each series divided by its
 * first point, so 1.00 is "as at the smallest size") on the y axis from `low` to `high`.
 */
export function asciiChart(
  series: readonly ChartSeries[],
  options: { low?: number; high?: number; rows?: number; width?: number } = {},
): string {
  const { low = 0.5, high = 1.5, rows = 11, width = 60 } = options;
  const xs = series.flatMap((s) => s.points.map(([x]) => Math.log10(x)));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const grid = Array.from({ length: rows }, () => Array.from({ length: width }, () => " "));
  for (const s of series) {
    const first = s.points[0]?.[1];
    if (first === undefined || first === 0) continue;
    for (const [x, y] of s.points) {
      const column = Math.round(((Math.log10(x) - xMin) / (xMax - xMin || 1)) * (width - 1));
      const ratio = Math.min(high, Math.max(low, y / first));
      const row = rows - 1 - Math.round(((ratio - low) / (high - low)) * (rows - 1));
      const here = grid[row]![column]!;
      grid[row]![column] = here === " " || here === s.mark ? s.mark : "*";
    }
  }
  const lines = grid.map((cells, r) => {
    const value = high - (r * (high - low)) / (rows - 1);
    return `${value.toFixed(2).padStart(5)} |${cells.join("")}`;
  });
  const ticks = Array.from({ length: width }, () => " ");
  const labels: string[] = [];
  for (let e = Math.ceil(xMin); e <= Math.floor(xMax); e++) {
    const column = Math.round(((e - xMin) / (xMax - xMin || 1)) * (width - 1));
    ticks[column] = "+";
    labels.push(`${size(10 ** e)}@${column}`);
  }
  const axis = Array.from({ length: width + 8 }, () => " ");
  for (const label of labels) {
    const [text, at] = label.split("@") as [string, string];
    const start = Math.min(width + 8 - text.length, 7 + Number(at));
    for (let i = 0; i < text.length; i++) axis[start + i] = text[i]!;
  }
  return [
    ...lines,
    `      +${ticks.join("").replaceAll(" ", "-")}`,
    axis.join("").trimEnd(),
    `      ${series.map((s) => `${s.mark} ${s.name}`).join("   ")}   (* several)`,
  ].join("\n");
}
