import type { StoreAdmin } from "../admin/store_admin.ts";
import type { StoreLocation } from "./_store_url.ts";
import type { OpenStoreOptions } from "./open_store.ts";

/** A NATS store: its server must answer within `timeout` ms. */
export function openNatsStore(
  _location: Extract<StoreLocation, { kind: "nats" }>,
  _options: OpenStoreOptions,
  _timeout: number,
): Promise<{ admin: StoreAdmin; close(): Promise<void> }> {
  return Promise.reject(new Error("NATS store admin not available yet"));
}
