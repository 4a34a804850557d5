// The caches part of the memory scale ladder (bench/_scale_memory.ts): RecentMap, the bounded
// map behind the adapters' per-entity caches (the SQL append's written seqNos and the NATS log's
// heads keep 100k entries each), setting new keys once full, so each set evicts the oldest.
// Its cost must not grow with the capacity. The baseline: a bare Map setting the same new keys
// and deleting the same old ones by key (it knows them), in the same run.

import { RecentMap } from "../src/_recent_map.ts";
import { printTable, size } from "./_scale_report.ts";
import { runtimeName } from "./_stats.ts";
import { loadAverage } from "./_scale_memory_common.ts";

const CAPACITIES = [1_000, 10_000, 100_000, 1_000_000];
const SETS = 200_000;

/** Prints µs per set of a new key into a full RecentMap, by capacity. */
export function recentMapCost(): void {
  const started = new Date().toISOString();
  const rows = CAPACITIES.map((capacity) => {
    const ours = perSet(
      capacity,
      (map: RecentMap<string, number>, i) => map.set(`k${i}`, i),
      () => new RecentMap<string, number>(capacity),
    );
    const theirs = perSet(capacity, (map: Map<string, number>, i) => {
      map.set(`k${i}`, i);
      map.delete(`k${i - capacity}`);
    }, () => new Map<string, number>());
    return [size(capacity), ours.toFixed(2), theirs.toFixed(2), (ours / theirs).toFixed(2)];
  });
  printTable(
    `RecentMap, µs per set of a new key once full (${runtimeName()}, ${started}, ` +
      `load ${loadAverage()})`,
    ["capacity", "RecentMap", "bare Map, delete by key", "ratio"],
    rows,
  );
}

function perSet<M extends { set(key: string, value: number): unknown }>(
  capacity: number,
  set: (map: M, i: number) => void,
  make: () => M,
): number {
  const map = make();
  for (let i = 0; i < capacity; i++) map.set(`k${i}`, i);
  const start = performance.now();
  for (let i = capacity; i < capacity + SETS; i++) set(map, i);
  return ((performance.now() - start) * 1000) / SETS;
}
