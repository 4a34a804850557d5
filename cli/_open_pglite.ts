import { stat } from "node:fs/promises";
import type { StoreAdmin } from "../admin/store_admin.ts";
import { StorageError } from "../src/errors.ts";
import type { StoreLocation } from "./_store_url.ts";
import type { OpenStoreOptions } from "./open_store.ts";

/** A PGlite store in its data directory; a missing directory is created only for setup. */
export async function openPgliteStore(
  location: Extract<StoreLocation, { kind: "pglite" }>,
  options: OpenStoreOptions,
): Promise<{ admin: StoreAdmin; close(): Promise<void> }> {
  const { dataDir } = location;
  const found = await stat(dataDir).catch((error: { code?: string }) => {
    if (error?.code === "ENOENT") return undefined;
    throw error;
  });
  if (found === undefined && options.create !== true) {
    throw new StorageError(
      `No PGlite data directory at "${dataDir}": run \`eventsourced setup pglite:${dataDir}\` ` +
        "to create a store there",
      { reason: "schema-missing" },
    );
  }
  if (found !== undefined && !found.isDirectory()) {
    throw new TypeError(`Invalid PGlite data directory "${dataDir}": it is a file`);
  }
  throw new Error("PGlite store admin not available yet");
}
