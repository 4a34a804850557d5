import type { Stats } from "node:fs";
import { stat } from "node:fs/promises";
import type { StoreAdmin } from "../admin/store_admin.ts";
import { PgliteStoreAdmin } from "../adapters/pglite/pglite_store_admin.ts";
import { StorageError } from "../src/errors.ts";
import { defined } from "./_defined.ts";
import type { StoreLocation } from "./_store_url.ts";
import type { OpenStoreOptions } from "./open_store_options.ts";

/** A PGlite store in its data directory; a missing directory is created only for setup. */
export async function openPgliteStore(
  location: Extract<StoreLocation, { kind: "pglite" }>,
  options: OpenStoreOptions,
): Promise<{ admin: StoreAdmin; close(): Promise<void> }> {
  const { dataDir } = location;
  const found = await statOf(dataDir);
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
  // PGlite initialises a database in any directory it opens: only setup may do that.
  if (found !== undefined && options.create !== true && !(await exists(`${dataDir}/PG_VERSION`))) {
    throw new StorageError(
      `No PGlite database in "${dataDir}": run \`eventsourced setup pglite:${dataDir}\` to ` +
        "create a store there",
      { reason: "schema-missing" },
    );
  }
  const admin = await PgliteStoreAdmin.open({
    dataDir,
    ...defined({ schema: options.schema, tablePrefix: options.tablePrefix }),
  });
  return { admin, close: () => admin.close() };
}

function statOf(path: string): Promise<Stats | undefined> {
  return stat(path).catch((error: { code?: string }) => {
    if (error?.code === "ENOENT") return undefined;
    throw error;
  });
}

async function exists(path: string): Promise<boolean> {
  return (await statOf(path)) !== undefined;
}
