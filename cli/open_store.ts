/**
 * Opening a store by URL, as the command-line tool does: PostgreSQL, a PGlite data directory
 * or NATS, with the names of its tables, stream and buckets.
 *
 * @module
 */

import type { StoreAdmin } from "../admin/store_admin.ts";
import { parseStoreUrl, redactUrl } from "./_store_url.ts";
import type { OpenStoreOptions } from "./open_store_options.ts";

/**
 * A store opened by {@linkcode openStore}: its admin, and a `close` for what was opened.
 *
 * @example Close what was opened
 * ```ts ignore
 * const store: OpenedStore = await openStore("pglite:./.data/events");
 * try {
 *   console.log(await store.admin.entityTypes());
 * } finally {
 *   await store.close();
 * }
 * ```
 */
export interface OpenedStore {
  /** The store's admin. */
  readonly admin: StoreAdmin;
  /** The URL with any password replaced by `***`, for messages. */
  readonly url: string;
  /** Closes the admin and the connection or database opened for it. */
  close(): Promise<void>;
}

/**
 * Opens the store at `url`: `postgres://…` or `postgresql://…` (a PostgreSQL server),
 * `pglite:PATH` or `file:PATH` (a PGlite data directory), `nats://host:port` (NATS over TCP)
 * or `ws://…` / `wss://…` (NATS over WebSocket). Rejects with a `TypeError` for a URL it
 * cannot read (naming the schemes it knows) and with a `StorageError` naming the host and
 * port when the server does not answer within `timeout`. Credentials in `url` never appear
 * in its messages.
 *
 * @example Look inside a PGlite data directory
 * ```ts ignore
 * import { openStore } from "@eventsourced/eventsourced/cli";
 *
 * const store = await openStore("pglite:./.data/events");
 * try {
 *   for (const type of await store.admin.entityTypes()) console.log(type.typeName, type.events);
 * } finally {
 *   await store.close();
 * }
 * ```
 *
 * @example A URL it does not know
 * ```ts
 * import { openStore } from "@eventsourced/eventsourced/cli";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(openStore("mysql://localhost/shop"), /unknown scheme "mysql:"/);
 * ```
 */
export async function openStore(
  url: string,
  options: OpenStoreOptions = {},
): Promise<OpenedStore> {
  if (typeof url !== "string") throw new TypeError(`Invalid store URL ${String(url)}`);
  const location = parseStoreUrl(url);
  const timeout = options.timeout ?? 5_000;
  if (!Number.isSafeInteger(timeout) || timeout < 1) {
    throw new RangeError(`Invalid timeout "${timeout}": expected a whole number of ms >= 1`);
  }
  const foreign = location.kind === "nats"
    ? (["schema", "tablePrefix"] as const)
    : (["stream", "subjectPrefix", "snapshotBucket", "offsetBucket"] as const);
  for (const name of foreign) {
    if (options[name] !== undefined) {
      throw new TypeError(
        `Invalid option ${name} for a ${location.kind} store: it names ` +
          (location.kind === "nats" ? "SQL tables" : "NATS streams and buckets"),
      );
    }
  }
  // Each backend is loaded when its URL is opened: its driver is an optional peer dependency,
  // so `--help` and the other backends work without it.
  const opened = location.kind === "postgres"
    ? await (await backend("PostgreSQL", "postgres", import("./_open_postgres.ts")))
      .openPostgresStore(location, options, timeout)
    : location.kind === "pglite"
    ? await (await backend("PGlite", "@electric-sql/pglite", import("./_open_pglite.ts")))
      .openPgliteStore(location, options)
    : await (await backend(
      "NATS",
      "@nats-io/nats-core, @nats-io/jetstream, @nats-io/kv",
      import("./_open_nats.ts"),
    ))
      .openNatsStore(location, options, timeout);
  return { ...opened, url: redactUrl(url) };
}

async function backend<Module>(
  name: string,
  packages: string,
  loading: Promise<Module>,
): Promise<Module> {
  try {
    return await loading;
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new Error(
      `Cannot open a ${name} store: its driver did not load (install ${packages}): ${detail}`,
      { cause },
    );
  }
}
