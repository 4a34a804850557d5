// The options of openStore, apart from it so the backend openers can take them without
// importing the module that imports them.

/**
 * Options of `openStore`: the names the store was set up with (those of the adapters'
 * options) and how long to wait for a server.
 *
 * @example A PostgreSQL store in its own schema
 * ```ts
 * import type { OpenStoreOptions } from "@eventsourced/eventsourced/cli";
 *
 * const options: OpenStoreOptions = { schema: "shop", tablePrefix: "shop_", timeout: 2_000 };
 * console.log(options.schema);
 * ```
 */
export interface OpenStoreOptions {
  /** SQL: the PostgreSQL schema of the tables; default `"public"`. */
  schema?: string | undefined;
  /** SQL: the prefix of the table names; default `"eventsourced_"`. */
  tablePrefix?: string | undefined;
  /** NATS: the JetStream stream; default `"eventsourced"`. */
  stream?: string | undefined;
  /** NATS: the first token(s) of the event subjects; default `"eventsourced"`. */
  subjectPrefix?: string | undefined;
  /** NATS: the KV bucket of the snapshots; default `"eventsourced-snapshots"`. */
  snapshotBucket?: string | undefined;
  /** NATS: the KV bucket of the projection offsets; default `"eventsourced_projection_offsets"`. */
  offsetBucket?: string | undefined;
  /** Milliseconds to wait for a server to answer; default 5 000. */
  timeout?: number | undefined;
  /**
   * PGlite: create the data directory when it is missing (`setup`). Default `false`: a missing
   * directory is an error, so a typo in a path never creates an empty store.
   */
  create?: boolean | undefined;
}
