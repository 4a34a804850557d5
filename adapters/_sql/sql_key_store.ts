// The key store of crypto-shredding over SQL, shared by the PostgreSQL and PGlite adapters: one
// row per type name and id in the `keys` table of schema version 3.

import type { CallOptions } from "../../src/event_log.ts";
import { StorageError } from "../../src/errors.ts";
import type { KeyStore, StoredKey } from "../../shredding/key_store.ts";
import { checkCreate, checkEntity } from "../../shredding/_key_checks.ts";
import { type SqlClient, toBytes } from "./client.ts";
import { describeError } from "./errors.ts";
import { type NameOptions, type SqlNames, sqlNames } from "./names.ts";
import { setupScript } from "./schema.ts";

// A create finds no row after its insert did nothing only when a delete ran in between; it
// tries again this many times before it reports the contention.
const CREATE_ATTEMPTS = 5;

/** The statements of the key store for `names`. */
function keyStatements(names: SqlNames) {
  const { keys } = names;
  return {
    get: `select key_id, key from ${keys} where type_name = $1::text and id = $2::text`,
    // The first writer wins; a conflicting insert waits for the other one to commit, so the
    // select that follows (a new snapshot) sees the row that won.
    insert: `insert into ${keys} (type_name, id, key_id, key)
      values ($1::text, $2::text, $3::bytea, $4::bytea)
      on conflict (type_name, id) do nothing returning key_id, key`,
    delete: `delete from ${keys} where type_name = $1::text and id = $2::text returning 1`,
  };
}

/** The shared implementation behind `PostgresKeyStore` and `PgliteKeyStore`. */
export class SqlKeyStore implements KeyStore {
  readonly names: SqlNames;
  readonly #client: SqlClient;
  readonly #sql: ReturnType<typeof keyStatements>;

  /** `options` as read by `readOptions` with `nameRules` (options.ts). */
  constructor(client: SqlClient, options: NameOptions) {
    this.names = sqlNames(options);
    this.#client = client;
    this.#sql = keyStatements(this.names);
  }

  /** Creates or upgrades the schema (idempotent): the tables of the event log, keys included. */
  async setup(): Promise<void> {
    try {
      await this.#client.exec(setupScript(this.names));
    } catch (error) {
      throw this.#describe(error, "Cannot set up the key store", true);
    }
  }

  async get(typeName: string, id: string, options?: CallOptions): Promise<StoredKey | null> {
    const signal = checkEntity("get", typeName, id, options);
    return await this.#select(typeName, id, signal, `Cannot read the key of "${typeName}/${id}"`);
  }

  async create(
    typeName: string,
    id: string,
    key: StoredKey,
    options?: CallOptions,
  ): Promise<StoredKey> {
    const { key: given, signal } = checkCreate(typeName, id, key, options);
    const what = `Cannot create the key of "${typeName}/${id}"`;
    for (let attempt = 1; attempt <= CREATE_ATTEMPTS; attempt++) {
      let rows: unknown[][];
      try {
        rows = await this.#client.query(
          this.#sql.insert,
          [typeName, id, given.keyId, given.key],
          signal,
        );
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        throw this.#describe(error, what, true);
      }
      if (rows[0] !== undefined) return toStoredKey(rows[0]);
      const stored = await this.#select(typeName, id, signal, what);
      if (stored !== null) return stored;
    }
    throw new StorageError(
      `${what}: the key was deleted between each of ${CREATE_ATTEMPTS} inserts and the reads after them; nothing was stored`,
      { reason: "failed" },
    );
  }

  async delete(typeName: string, id: string, options?: CallOptions): Promise<boolean> {
    const signal = checkEntity("delete", typeName, id, options);
    try {
      const rows = await this.#client.query(this.#sql.delete, [typeName, id], signal);
      return rows.length > 0;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw this.#describe(error, `Cannot delete the key of "${typeName}/${id}"`, true);
    }
  }

  async #select(
    typeName: string,
    id: string,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<StoredKey | null> {
    let rows: unknown[][];
    try {
      rows = await this.#client.query(this.#sql.get, [typeName, id], signal);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw this.#describe(error, what, false);
    }
    return rows[0] === undefined ? null : toStoredKey(rows[0]);
  }

  #describe(error: unknown, what: string, write: boolean): unknown {
    return describeError(error, what, {
      where: this.#client.description,
      names: this.names,
      write,
    });
  }
}

function toStoredKey(row: unknown[]): StoredKey {
  // Copies, so that no caller shares a driver's buffer.
  return { keyId: toBytes(row[0]).slice(), key: toBytes(row[1]).slice() };
}
