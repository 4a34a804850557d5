import type { StoreAdmin } from "../admin/store_admin.ts";
import { PostgresStoreAdmin } from "../adapters/postgres/postgres_store_admin.ts";
import { defined } from "./_defined.ts";
import type { StoreLocation } from "./_store_url.ts";
import { unreachable, within } from "./_within.ts";
import type { OpenStoreOptions } from "./open_store_options.ts";

/** A PostgreSQL store: its server must answer within `timeout` ms. */
export async function openPostgresStore(
  location: Extract<StoreLocation, { kind: "postgres" }>,
  options: OpenStoreOptions,
  timeout: number,
): Promise<{ admin: StoreAdmin; close(): Promise<void> }> {
  const what = `Cannot reach PostgreSQL at ${location.address}`;
  const connecting = PostgresStoreAdmin.connect({
    url: location.url,
    max: 4,
    connectTimeout: timeout / 1000,
    ...defined({ schema: options.schema, tablePrefix: options.tablePrefix }),
  });
  try {
    const admin = await within(
      connecting,
      timeout,
      `${what}: no answer within ${timeout} ms`,
      (late) => late.close(),
    );
    return { admin, close: () => admin.close() };
  } catch (error) {
    throw unreachable(what, location.address, error);
  }
}
