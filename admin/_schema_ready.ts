// The check before a copy reads or writes: both stores are set up, the target at the schema
// this release writes, so that a forgotten `setup()` is named as such instead of failing later
// as a missing table.

import type { CallOptions } from "../src/event_log.ts";
import type { StoreAdmin } from "./store_admin.ts";

/** Rejects with an Error naming the store (`role`) when its schema is missing or behind. */
export async function assertSchemaReady(
  admin: StoreAdmin,
  role: "source" | "target",
  options: CallOptions,
): Promise<void> {
  const { installed, latest } = await admin.schema(options);
  if (installed === null) {
    throw new Error(
      `The ${role} ${admin.backend} store is not set up: call setup() on it first (eventsourced setup URL)`,
    );
  }
  if (role === "target" && installed < latest) {
    throw new Error(
      `The target ${admin.backend} store is at schema version ${installed}, this release writes version ${latest}: call setup() on it first to upgrade it`,
    );
  }
}
