// Appending to the SQL event log: which statement a batch of persists goes out as, with which
// parameters, what the answer means (written, or a ConcurrencyError per entity), and what the log
// remembers afterwards so that its next append can be cheaper. The batching itself is
// group_commit.ts; the rules an append keeps are in docs/event-log-rules.md.

import { ConcurrencyError } from "../../src/errors.ts";
import type { PersistCall } from "../../src/_persist_options.ts";
import { RecentMap } from "../../src/_recent_map.ts";
import { type AppendEntry, appendParams, batchHasMetadata, plainParams } from "./append_params.ts";
import { type SqlClient, type SqlParam, toNumber } from "./client.ts";
import type { ObserveBatch } from "./batch_observer.ts";
import { errorCode } from "./errors.ts";
import { GroupCommit, type QueuedWrite } from "./group_commit.ts";
import { KnownPositions } from "./known_positions.ts";
import { metadataParams, metadataSize } from "./metadata_columns.ts";
import { NotifyPacer } from "./notify_pacer.ts";
import type { Statements } from "./statements.ts";

/** How a log appends: fixed by its adapter and options. */
export interface AppendSettings {
  /** Group-commit batches in flight at once (each of other type names). */
  readonly concurrency: number;
  /** Whether a batch that needs no check goes as a plain statement instead of a function call. */
  readonly plainAppends: boolean;
  /** Whether a batch with an entity to check goes as a plain statement too, checked in it. */
  readonly plainChecks: boolean;
  /** Most entities in one batch. */
  readonly maxBatchSize: number;
  /** Whether appends announce themselves with NOTIFY. */
  readonly notify: boolean;
  /** Most ms between two notifications of one type name (0: every append). */
  readonly notifyInterval: number;
  /** Observes each batch (`Instrumentation.persistBatch`); `undefined`: nothing does. */
  readonly observeBatch: ObserveBatch | undefined;
}

/** A persist waiting for its batch. */
interface Pending extends AppendEntry, QueuedWrite {
  resolve(seqNo: number): void;
}

/** Whether an entity of a batch was written, or the last seqNo actually found. */
interface Outcome {
  readonly accepted: boolean;
  readonly actual: number;
}

const MAX_BATCH_BYTES = 16 * 1024 * 1024;
// Entities whose last written seqNo is remembered; the rest are checked by a probe.
const WRITTEN_ENTRIES = 100_000;
// SQLSTATEs after which a batch goes again with every entity checked, then entity by entity: a
// unique violation means that a writer is behind the log or that a position was taken by another
// writer (positions.ts); serialisation failures and deadlocks only come from sessions outside
// READ COMMITTED.
const RETRY_ALONE = new Set(["23505", "40001", "40P01"]);

/** The appends of one SQL event log. */
export class SqlAppender {
  readonly #client: SqlClient;
  readonly #sql: Statements;
  readonly #settings: AppendSettings;
  readonly #committed: (typeNames: Iterable<string>) => void;
  readonly #groupCommit: GroupCommit<Pending>;
  readonly #pacer: NotifyPacer;
  readonly #positions = new KnownPositions();
  // Entity key → the last seqNo this log wrote and saw acknowledged: its next append needs no
  // probe. Forgotten after any failed append and when this log deletes the entity's events;
  // another log's entry is stale after a deleteEntity, which is why an entity is deleted whole
  // only while it runs nowhere.
  readonly #written = new RecentMap<string, number>(WRITTEN_ENTRIES);

  /** `committed` is told the type names of every append that committed. */
  constructor(
    client: SqlClient,
    statements: Statements,
    settings: AppendSettings,
    committed: (typeNames: Iterable<string>) => void,
  ) {
    this.#client = client;
    this.#sql = statements;
    this.#settings = settings;
    this.#committed = committed;
    this.#pacer = new NotifyPacer(settings.notifyInterval, async (typeNames) => {
      await client.query(statements.notify, [typeNames]);
    });
    const observe = settings.observeBatch;
    const run = observe === undefined
      ? (batch: readonly Pending[]) => this.#runBatch(batch)
      : (batch: readonly Pending[]) => this.#observedBatch(batch, observe);
    this.#groupCommit = new GroupCommit(run, {
      concurrency: settings.concurrency,
      maxEntries: settings.maxBatchSize,
      maxBytes: MAX_BATCH_BYTES,
    });
  }

  /**
   * Queues a persist of checked arguments, with the signal, version and metadata of `call`;
   * resolves to the new last seqNo.
   */
  append(
    typeName: string,
    id: string,
    lastSeqNo: number | null,
    events: readonly Uint8Array[],
    call: PersistCall,
  ): Promise<number> {
    const key = `${typeName}\u0000${id}`;
    const { signal, version, metadata } = call;
    let size = metadataSize(metadata);
    for (const bytes of events) size += bytes.length;
    return new Promise<number>((resolve, reject) => {
      this.#groupCommit.add({
        typeName,
        id,
        key,
        group: typeName,
        size,
        lastSeqNo,
        // A new entity is checked too: the primary key refuses seqNo 1 only while the event is
        // there, and deleting an entity's first events takes it away.
        check: this.#written.get(key) !== lastSeqNo,
        events,
        version,
        metadata,
        signal,
        resolve,
        reject,
      });
    });
  }

  /**
   * Forgets what this log knew of the entity and of its type name's last position, after it
   * deleted events of the entity.
   */
  deleted(typeName: string, id: string): void {
    this.#written.delete(`${typeName}\u0000${id}`);
    this.#positions.forget(typeName);
  }

  /** Sends the notifications still owed (before the log closes). Never rejects. */
  flush(): Promise<void> {
    return this.#pacer.flush();
  }

  // The batch as an instrumentation sees it: ended once it settled, with the error that failed
  // it whole (entities refused by a concurrency check do not fail the batch).
  async #observedBatch(batch: readonly Pending[], observe: ObserveBatch): Promise<void> {
    const observer = observe(batch);
    try {
      await this.#runBatch(batch);
    } catch (error) {
      observer?.ended(error);
      throw error;
    }
    observer?.ended();
  }

  // A batch is written whole or not at all: entities that conflict fail, the rest go again.
  async #runBatch(batch: readonly Pending[]): Promise<void> {
    const outcomes = await this.#outcomes(batch);
    for (let i = 0; i < batch.length; i++) {
      const pending = batch[i]!;
      const outcome = outcomes[i]!;
      if (outcome.accepted) {
        pending.resolve((pending.lastSeqNo ?? 0) + pending.events.length);
      } else {
        pending.reject(
          new ConcurrencyError({
            typeName: pending.typeName,
            id: pending.id,
            expected: pending.lastSeqNo,
            actual: outcome.actual === 0 ? null : outcome.actual,
          }),
        );
      }
    }
  }

  // After a unique violation the batch goes again with every entity checked, then entity by
  // entity, where a violation is a ConcurrencyError.
  async #outcomes(batch: readonly Pending[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = new Array(batch.length);
    let open = batch.map((_, i) => i);
    let checkAll = false;
    while (open.length > 0) {
      const part = open.map((i) => batch[i]!);
      let result: Outcome[];
      try {
        result = await this.#append(part, checkAll);
      } catch (error) {
        if (!RETRY_ALONE.has(errorCode(error) ?? "")) {
          // The server may have changed under us (a failover to a replica that lost the last
          // commits, say): check every entity again.
          this.#written.clear();
          this.#positions.clear();
          throw error;
        }
        if (!checkAll && part.some((pending) => !pending.check)) {
          checkAll = true;
          continue;
        }
        const alone = await this.#appendAlone(part);
        open.forEach((i, j) => (outcomes[i] = alone[j]!));
        return outcomes;
      }
      const written = result.every((outcome) => outcome.accepted);
      const next: number[] = [];
      open.forEach((i, j) => {
        const outcome = result[j]!;
        if (written || !outcome.accepted) outcomes[i] = outcome;
        else next.push(i);
      });
      open = next;
    }
    return outcomes;
  }

  async #appendAlone(batch: readonly Pending[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const pending of batch) {
      try {
        outcomes.push(...await this.#append([pending], true));
      } catch (error) {
        if (!RETRY_ALONE.has(errorCode(error) ?? "")) throw error;
        const rows = await this.#client.query(this.#sql.lastSeqNo, [pending.typeName, pending.id]);
        outcomes.push({ accepted: false, actual: toNumber(rows[0]?.[0] ?? 0) });
      }
    }
    return outcomes;
  }

  async #append(batch: readonly Pending[], checkAll: boolean): Promise<Outcome[]> {
    const one = batch.length === 1 && batch[0]!.events.length === 1 ? batch[0]! : undefined;
    const typeNames = one === undefined
      ? new Set(batch.map((pending) => pending.typeName))
      : [one.typeName];
    const notify = this.#settings.notify && this.#pacer.carry(typeNames);
    const withMetadata = batchHasMetadata(batch);
    if (
      this.#settings.plainAppends && !checkAll &&
      await this.#appendPlain(batch, one, notify, withMetadata)
    ) {
      return this.#appended(
        batch,
        batch.map((pending) => ({ accepted: true, actual: pending.lastSeqNo ?? 0 })),
        typeNames,
        notify,
      );
    }
    const rows = one === undefined
      ? await this.#client.query(this.#sql.append, appendParams(batch, notify, checkAll))
      : await this.#client.query(this.#sql.appendOne, [
        one.typeName,
        one.id,
        one.lastSeqNo ?? 0,
        checkAll || one.check,
        one.events[0]!,
        notify,
        ...metadataParams(one.version, one.metadata),
      ]);
    // The function does not say which positions it took.
    for (const typeName of typeNames) this.#positions.forget(typeName);
    return this.#appended(
      batch,
      rows.map((row) => ({ accepted: row[0] === true, actual: toNumber(row[1]) })),
      typeNames,
      notify,
    );
  }

  // A batch of one type name goes as one plain statement: a bare INSERT after the type name's
  // last position when this log knows it (known_positions.ts), else with lock and probe
  // (positions.ts); entities this log does not know to be at their expected seqNo are checked
  // in the same statement. False when it cannot: several type names, another append holding the
  // type name's lock, or a check or floor that refused (the function then says which entity).
  // A batch without versions and metadata uses the statements without those columns.
  async #appendPlain(
    batch: readonly Pending[],
    one: Pending | undefined,
    notify: boolean,
    withMetadata: boolean,
  ): Promise<boolean> {
    const typeName = batch[0]!.typeName;
    const known = this.#positions.get(typeName);
    const plain = one === undefined ? plainParams(batch, notify, withMetadata) : undefined;
    if (one === undefined && plain === undefined) return false;
    const checked = one?.check ?? plain!.checked;
    if (checked && !this.#settings.plainChecks) return false;
    const sql = withMetadata
      ? (checked ? this.#sql.plainWithMetadataChecked : this.#sql.plainWithMetadata)
      : (checked ? this.#sql.plainChecked : this.#sql.plain);
    let text: string;
    let params: SqlParam[];
    let count = 1;
    if (one !== undefined) {
      const seqNo = (one.lastSeqNo ?? 0) + 1;
      const bytes = one.events[0]!;
      if (known === undefined) {
        text = sql.appendUncheckedOne;
        params = [typeName, one.id, seqNo, bytes, notify];
      } else {
        text = notify ? sql.insertOneNotify : sql.insertOne;
        params = [typeName, one.id, seqNo, known + 1, bytes];
      }
      if (withMetadata) params.push(...metadataParams(one.version, one.metadata));
    } else {
      const all = plain!.params;
      count = (all[1] as string[]).length;
      if (known === undefined) {
        text = sql.appendUnchecked;
        params = all;
      } else {
        text = notify ? sql.insertManyNotify : sql.insertMany;
        params = all.slice(0, 6);
        params.push(known);
      }
      params.push(...plain!.metadata);
    }
    let rows: unknown[][];
    try {
      rows = await this.#client.query(text, params);
    } catch (error) {
      // Another writer took a position after the one this log knew, or a writer is behind: the
      // batch goes again, checked, through the function.
      if (known !== undefined && errorCode(error) === "23505") this.#positions.collided(typeName);
      throw error;
    }
    if (known !== undefined) {
      // 0 events: a deletion took a position above the known one, or a check refused; the
      // function numbers after the floor and says which entity was not where expected.
      if (toNumber(rows[0]?.[0]) === 0) {
        if (!checked) this.#positions.collided(typeName);
        return false;
      }
      this.#positions.wrote(typeName, known + count);
      return true;
    }
    // 0 events: another append holds the type name's lock (the function waits for it), or a
    // check refused.
    if (toNumber(rows[0]?.[0]) === 0) return false;
    this.#positions.wrote(typeName, toNumber(rows[0]?.[1]));
    return true;
  }

  // The bookkeeping of an append: on success what this log wrote, the wake-ups of its own live
  // readers and the notifications owed to readers elsewhere.
  #appended(
    batch: readonly Pending[],
    outcomes: Outcome[],
    typeNames: Iterable<string>,
    notified: boolean,
  ): Outcome[] {
    if (outcomes.every((outcome) => outcome.accepted)) {
      for (const pending of batch) {
        this.#written.set(pending.key, (pending.lastSeqNo ?? 0) + pending.events.length);
      }
      this.#committed(typeNames);
      if (this.#settings.notify) this.#pacer.committed(typeNames, notified);
    } else {
      outcomes.forEach((outcome, i) => outcome.accepted || this.#written.delete(batch[i]!.key));
    }
    return outcomes;
  }
}
