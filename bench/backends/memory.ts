// The in-memory stores, with a Map as the "raw driver" baseline.

import { MemoryEventLog, MemorySnapshotStore } from "../../mod.ts";
import type { BenchBackend } from "../_backend.ts";

const row = new TextEncoder().encode('{"type":"increased","by":1}');

const backend: BenchBackend = {
  name: "memory",
  open() {
    return Promise.resolve({
      eventLog: new MemoryEventLog(),
      snapshotStore: new MemorySnapshotStore(),
      close: () => Promise.resolve(),
      baseline: {
        async sequential(count) {
          const table = new Map<string, Uint8Array>();
          const start = performance.now();
          for (let i = 0; i < count; i++) {
            table.set(`a/${i}`, row.slice());
            await Promise.resolve();
          }
          return count / ((performance.now() - start) / 1000);
        },
        async concurrent(writers, perWriter) {
          const table = new Map<string, Uint8Array>();
          const start = performance.now();
          await Promise.all(Array.from({ length: writers }, async (_, w) => {
            for (let i = 0; i < perWriter; i++) {
              table.set(`${w}/${i}`, row.slice());
              await Promise.resolve();
            }
          }));
          return (writers * perWriter) / ((performance.now() - start) / 1000);
        },
      },
    });
  },
};

export default backend;
