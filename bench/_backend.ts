// The contract between bench/load.ts and the backends in bench/backends/<name>.ts: each module
// default-exports a BenchBackend.

import type { EventLog, SnapshotStore } from "../mod.ts";

/** Raw-driver baselines, measured in the same run on the same server; each returns ops/s. */
export interface Baseline {
  /** `count` single-row writes, one after the other, each committed before the next. */
  sequential(count: number): Promise<number>;
  /** `writers` concurrent writers of `perWriter` rows each, batched into multi-row writes. */
  concurrent(writers: number, perWriter: number): Promise<number>;
  /** Reads `count` rows like those written (rows/s); optional. */
  read?(count: number): Promise<number>;
}

/** An opened backend: the stores under test, the baseline, and how to release them. */
export interface OpenedBackend {
  eventLog: EventLog;
  snapshotStore: SnapshotStore;
  close(): Promise<void>;
  baseline: Baseline;
}

/** How a backend is opened for a load run. */
export interface OpenOptions {
  /** Whether the commands carry metadata: the baselines then write the same beside each row. */
  metadata?: boolean;
}

/** What a backend module default-exports. */
export interface BenchBackend {
  name: string;
  open(options?: OpenOptions): Promise<OpenedBackend>;
}
