// The store admin over SQL, shared by the PostgreSQL and PGlite adapters: the statements are
// _admin_statements.ts; the checks of the arguments are those of every admin (admin/_*.ts).

import type { CallOptions, EventLog, PersistedEvent } from "../../src/event_log.ts";
import type { SnapshotStore } from "../../src/snapshot_store.ts";
import { ProjectionError } from "../../projection/errors.ts";
import type { NameLocks } from "../../projection/_name_locks.ts";
import { isProjectionError } from "../../projection/errors.ts";
import type {
  AdminReadOptions,
  EntityTypeSummary,
  ProjectionOffset,
  ResetProjectionOptions,
  SchemaState,
  StoreAdmin,
  StoredSnapshot,
} from "../../admin/store_admin.ts";
import {
  assertContinues,
  assertContinuesHead,
  type ImportPlan,
  planImport,
} from "../../admin/_import_events.ts";
import { keysetStream } from "../../admin/_keyset_stream.ts";
import { importSnapshotInto, readCall, readListing, readReset } from "../../admin/_admin_checks.ts";
import { metadataParams } from "./metadata_columns.ts";
import { type SqlClient, type SqlParam, toBytes, toNumber } from "./client.ts";
import { describeError, errorCode } from "./errors.ts";
import type { SqlNames } from "./names.ts";
import { lastPosition } from "./positions.ts";
import { SCHEMA_VERSION, setupScript } from "./schema.ts";
import { type AdminStatements, adminStatements, type Listings } from "./_admin_statements.ts";

/** Snapshots per page of a listing: fewer than ids, as each carries its bytes. */
const SNAPSHOT_PAGE = 100;

/** What a driver adapter gives the shared admin. */
export interface SqlAdminParts {
  readonly backend: "postgres" | "pglite";
  readonly client: SqlClient;
  readonly names: SqlNames;
  readonly eventLog: EventLog & { close(): Promise<void> };
  readonly snapshotStore: SnapshotStore & { close?(): Promise<void> };
  /** The in-process locks of projection names that the offset stores over this client take. */
  readonly locks: NameLocks;
  /** Ids per page of a listing. */
  readonly pageSize: number;
}

/**
 * The shared implementation behind `PostgresStoreAdmin` and `PgliteStoreAdmin`: positions are
 * kept on import, each `importEvents` call is one statement (all or nothing).
 */
export class SqlStoreAdmin implements StoreAdmin {
  /** {@inheritDoc StoreAdmin.backend} */
  readonly backend: "postgres" | "pglite";
  /** {@inheritDoc StoreAdmin.keepsPositions} */
  readonly keepsPositions = true;
  /** {@inheritDoc StoreAdmin.eventLog} */
  readonly eventLog: EventLog;
  /** {@inheritDoc StoreAdmin.snapshotStore} */
  readonly snapshotStore: SnapshotStore;
  readonly #parts: SqlAdminParts;
  readonly #sql: AdminStatements;
  #listings: Promise<Listings> | undefined;

  /** Uses the parts a driver adapter built. */
  constructor(parts: SqlAdminParts) {
    this.backend = parts.backend;
    this.eventLog = parts.eventLog;
    this.snapshotStore = parts.snapshotStore;
    this.#parts = parts;
    this.#sql = adminStatements(parts.names);
  }

  /** {@inheritDoc StoreAdmin.schema} */
  async schema(options?: CallOptions): Promise<SchemaState> {
    const signal = readCall("schema", options);
    try {
      const rows = await this.#parts.client.query(this.#sql.schemaVersion, [], signal);
      const installed = rows[0]?.[0];
      return {
        installed: installed === null || installed === undefined ? null : toNumber(installed),
        latest: SCHEMA_VERSION,
      };
    } catch (error) {
      const code = errorCode(error);
      if (code === "42P01" || code === "3F000") return { installed: null, latest: SCHEMA_VERSION };
      throw this.#describe(error, "Cannot read the schema version", false, signal);
    }
  }

  /** {@inheritDoc StoreAdmin.setup} */
  async setup(options?: CallOptions): Promise<void> {
    readCall("setup", options);
    try {
      await this.#parts.client.exec(setupScript(this.#parts.names));
    } catch (error) {
      throw this.#describe(error, "Cannot set up the store", true, undefined);
    }
  }

  /** {@inheritDoc StoreAdmin.entityTypes} */
  async entityTypes(options?: CallOptions): Promise<EntityTypeSummary[]> {
    const signal = readCall("entityTypes", options);
    const rows = await this.#query(
      this.#sql.entityTypes,
      [],
      "Cannot list the entity types",
      signal,
    );
    return rows.map((row) => ({
      typeName: row[0] as string,
      entities: toNumber(row[1]),
      events: toNumber(row[2]),
      headPosition: toNumber(row[3]),
    }));
  }

  // The listing statements that fit the database's collation, asked once (again after a failure).
  #listing(signal: AbortSignal): Promise<Listings> {
    if (this.#listings === undefined) {
      const sql = this.#sql;
      const listings = this.#query(
        sql.byteOrder,
        [],
        "Cannot read the database's collation",
        signal,
      )
        .then((rows) => rows[0]?.[0] === true ? sql.byteOrderListings : sql);
      this.#listings = listings;
      listings.catch(() => (this.#listings = undefined));
    }
    return this.#listings;
  }

  /** {@inheritDoc StoreAdmin.entityIds} */
  entityIds(typeName: string, options?: AdminReadOptions): ReadableStream<string> {
    const signal = readListing("entityIds", typeName, options);
    const limit = this.#parts.pageSize;
    return keysetStream(
      async (after, signal) => {
        const rows = await this.#query(
          (await this.#listing(signal)).entityIds,
          [typeName, after, limit],
          `Cannot list the ids of type "${typeName}"`,
          signal,
        );
        return rows.map((row) => row[0] as string);
      },
      (id) => id,
      limit,
      signal,
    );
  }

  /** {@inheritDoc StoreAdmin.snapshots} */
  snapshots(typeName: string, options?: AdminReadOptions): ReadableStream<StoredSnapshot> {
    const signal = readListing("snapshots", typeName, options);
    return keysetStream(
      async (after, signal) => {
        const rows = await this.#query(
          (await this.#listing(signal)).snapshots,
          [typeName, after, SNAPSHOT_PAGE],
          `Cannot list the snapshots of type "${typeName}"`,
          signal,
        );
        return rows.map((row) => ({
          typeName,
          id: row[0] as string,
          seqNo: toNumber(row[1]),
          bytes: toBytes(row[2]),
          version: toNumber(row[3]),
        }));
      },
      (snapshot) => snapshot.id,
      SNAPSHOT_PAGE,
      signal,
    );
  }

  /** {@inheritDoc StoreAdmin.importEvents} */
  async importEvents(events: readonly PersistedEvent[], options?: CallOptions): Promise<void> {
    const signal = readCall("importEvents", options);
    const plan = planImport(events, this.keepsPositions);
    if (plan.events.length === 0) return;
    const what = `Cannot import ${plan.events.length} events`;
    let rows: unknown[][];
    try {
      rows = await this.#parts.client.query(this.#sql.importEvents, importParams(plan), signal);
    } catch (error) {
      // A row that a concurrent append committed while this statement waited for the locks:
      // nothing was written; the check against the store as it is now names the conflict.
      if (errorCode(error) === "23505") await this.#explainConflict(plan, signal);
      throw this.#describe(error, what, true, signal);
    }
    const [written, , lastSeqNos, heads] = rows[0]!;
    if (written !== true) {
      explainRefusal(plan, lastSeqNos as unknown[], heads as unknown[]);
      throw new Error(`${what}: the store refused them without a reason`);
    }
  }

  async #explainConflict(plan: ImportPlan, signal: AbortSignal | undefined): Promise<void> {
    for (const entity of plan.entities.values()) {
      assertContinues(
        entity,
        await this.eventLog.lastSeqNo(entity.typeName, entity.id, { signal }),
      );
    }
    for (const type of plan.types.values()) {
      const rows = await this.#query(
        `select ${lastPosition(this.#parts.names, "$1::text")}`,
        [type.typeName],
        `Cannot read the head of type "${type.typeName}"`,
        signal,
      );
      assertContinuesHead(type, toNumber(rows[0]![0]));
    }
  }

  /** {@inheritDoc StoreAdmin.importSnapshot} */
  importSnapshot(snapshot: StoredSnapshot, options?: CallOptions): Promise<void> {
    return importSnapshotInto(this.snapshotStore, snapshot, options);
  }

  /** {@inheritDoc StoreAdmin.projections} */
  async projections(options?: CallOptions): Promise<ProjectionOffset[]> {
    const signal = readCall("projections", options);
    const rows = await this.#query(
      this.#sql.projections,
      [],
      "Cannot list the projections",
      signal,
    );
    return rows.map((row) => ({
      name: row[0] as string,
      ...(row[1] === null ? {} : { typeName: row[1] as string }),
      offset: toNumber(row[2]),
      updatedAt: row[3] === null ? null : Math.floor(toNumber(row[3])),
    }));
  }

  /** {@inheritDoc StoreAdmin.resetProjection} */
  async resetProjection(
    name: string,
    offset: number,
    options?: ResetProjectionOptions,
  ): Promise<void> {
    const { signal, typeName } = readReset(name, offset, options);
    const locked = () =>
      new ProjectionError(
        `Cannot reset projection "${name}": a runner holds it; stop it first`,
        { projection: name, reason: "locked" },
      );
    let release: () => void;
    try {
      release = await this.#parts.locks.acquire(name, { wait: false, signal });
    } catch (error) {
      throw isProjectionError(error) ? locked() : error;
    }
    try {
      const key = this.#sql.projectionKey(name);
      const rows = await this.#query(
        typeName === undefined ? this.#sql.resetProjection : this.#sql.resetProjectionType,
        typeName === undefined ? [name, key, offset] : [name, key, offset, typeName],
        `Cannot reset projection "${name}"`,
        signal,
        true,
      );
      if (rows[0]?.[0] !== true) throw locked();
    } finally {
      release();
    }
  }

  /** Closes the log and snapshot store it made; the caller's client stays open. */
  async close(): Promise<void> {
    await this.#parts.eventLog.close();
    await this.#parts.snapshotStore.close?.();
  }

  async #query(
    text: string,
    params: readonly SqlParam[],
    what: string,
    signal: AbortSignal | undefined,
    write = false,
  ): Promise<unknown[][]> {
    try {
      return await this.#parts.client.query(text, params, signal);
    } catch (error) {
      throw this.#describe(error, what, write, signal);
    }
  }

  #describe(error: unknown, what: string, write: boolean, signal: AbortSignal | undefined) {
    if (signal?.aborted && !write) return signal.reason;
    return describeError(error, what, {
      where: this.#parts.client.description,
      names: this.#parts.names,
      write,
    });
  }
}

// Throws the error of the first entity or type that the statement found not to fit.
function explainRefusal(plan: ImportPlan, lastSeqNos: unknown[], heads: unknown[]): void {
  let i = 0;
  for (const entity of plan.entities.values()) {
    const last = toNumber(lastSeqNos[i++]);
    assertContinues(entity, last === 0 ? null : last);
  }
  i = 0;
  for (const type of plan.types.values()) assertContinuesHead(type, toNumber(heads[i++]));
}

function importParams(plan: ImportPlan): SqlParam[] {
  const { events } = plan;
  const total = events.reduce((sum, event) => sum + event.bytes.length, 0);
  const bytes = new Uint8Array(total);
  const columns = {
    types: [] as string[],
    ids: [] as string[],
    seqNos: [] as number[],
    positions: [] as number[],
    starts: [] as number[],
    lengths: [] as number[],
    versions: [] as number[],
    commandIds: [] as (string | null)[],
    correlationIds: [] as (string | null)[],
    causationIds: [] as (string | null)[],
    headers: [] as (string | null)[],
    writtenAt: [] as number[],
  };
  let at = 0;
  for (const event of events) {
    const [version, commandId, correlationId, causationId, headers] = metadataParams(
      event.version,
      event.metadata,
    );
    columns.types.push(event.typeName);
    columns.ids.push(event.id);
    columns.seqNos.push(event.seqNo);
    columns.positions.push(event.position);
    columns.starts.push(at + 1);
    columns.lengths.push(event.bytes.length);
    bytes.set(event.bytes, at);
    at += event.bytes.length;
    columns.versions.push(version);
    columns.commandIds.push(commandId);
    columns.correlationIds.push(correlationId);
    columns.causationIds.push(causationId);
    columns.headers.push(headers);
    columns.writtenAt.push(event.writtenAt);
  }
  const entities = [...plan.entities.values()];
  const types = [...plan.types.values()];
  return [
    columns.types,
    columns.ids,
    columns.seqNos,
    columns.positions,
    columns.starts,
    columns.lengths,
    bytes,
    columns.versions,
    columns.commandIds,
    columns.correlationIds,
    columns.causationIds,
    columns.headers,
    columns.writtenAt,
    entities.map((e) => e.typeName),
    entities.map((e) => e.id),
    entities.map((e) => e.firstSeqNo),
    types.map((t) => t.typeName),
    types.map((t) => t.firstPosition),
  ];
}
