/**
 * An {@linkcode EventLog} on a NATS JetStream stream.
 *
 * @module
 */

import type { NatsConnection } from "@nats-io/nats-core";
import {
  type ApiError,
  jetstream,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
} from "@nats-io/jetstream";
import type {
  CallOptions,
  EventLog,
  PersistedEvent,
  PersistOptions,
  ReadOptions,
} from "../../src/event_log.ts";
import { ConcurrencyError, StorageError } from "../../src/errors.ts";
import { readOptions } from "../../src/_options.ts";
import { RecentMap } from "../../src/_recent_map.ts";
import {
  assertId,
  assertNonNegativeInteger,
  assertPersistArguments,
  assertPositiveInteger,
  assertTypeName,
  DEFAULT_MAX_EVENT_BYTES,
  throwIfAborted,
} from "../../src/_validate.ts";
import { openConnection, readConnectOptions } from "./connect_options.ts";
import {
  LOG_OPTION_RULES,
  type NatsEventLogConnectOptions,
  type NatsEventLogOptions,
  type NatsEventLogSetupOptions,
  READ_OPTION_RULES,
  SETUP_OPTION_RULES,
} from "./nats_event_log_options.ts";
import { decodeToken, encodeToken } from "./token.ts";
import {
  decodeEvents,
  encodePersist,
  maxSingleEventHeaderBytes,
  POSITION_FACTOR,
  receivedHeaders,
} from "./_message.ts";
import { millisOfNanos } from "./_written_at.ts";
import { getMessage, type MessageQuery, type StoredMessage, withSignal } from "./_jetstream.ts";
import { type EntityHead, headOf, planEntityRead, planTypeRead } from "./_read_plan.ts";
import { consumerStream } from "./_reader.ts";
import { StreamAdmin } from "./_stream_admin.ts";
import { apiCode, storageError, WRONG_LAST_SEQUENCE } from "./_storage_errors.ts";
import { callSignal } from "../../src/_call_options.ts";
import { readPersistOptions } from "../../src/_persist_options.ts";
import type { Instrumentation } from "../../src/instrumentation.ts";
import { observeBatch } from "../../src/_observed_batch.ts";
import { assertInstrumentation } from "../../src/_observed.ts";
import { exposeNatsLog } from "./_log_internals.ts";
import { type PurgedEntity, purgeEntity, purgeEventsUpTo } from "./_entity_purge.ts";
import { closeOwned } from "./_close_owned.ts";

// Entities whose head (last seqNo, stream sequence) a log remembers, so a persist right after
// the previous one needs no lookup.
const MAX_REMEMBERED_HEADS = 100_000;
const textDecoder = new TextDecoder();
// The room the headers of a one-event persist without metadata take at most, known once.
const SINGLE_EVENT_HEADER_BYTES = maxSingleEventHeaderBytes();

/**
 * Events in a NATS JetStream stream, reached over the user's `NatsConnection` (WebSocket from
 * `wsconnect`, or TCP from `@nats-io/transport-node`) or over a WebSocket connection that
 * {@linkcode NatsEventLog.connect} opens.
 *
 * Layout: one subject per entity, `<subjectPrefix>.<typeName>.<encodeToken(id)>`, so any id is
 * stored exactly. One persist is one message (all or none, on nats-server 2.9 and later) with
 * the seqNo of its first event in the header `Eventsourced-Seq-No` and, for more than one
 * event, their number in `Eventsourced-Count` and the events length-prefixed in the body.
 * The persist's version (when not 1) and metadata go in the headers `Es-Version`,
 * `Es-Command-Id`, `Es-Correlation-Id`, `Es-Causation-Id` and `Es-H-<header name>`, values
 * percent-encoded where NATS would not keep them as they are; a message without them (as the
 * releases before metadata wrote) reads as version 1 with `{}`. `writtenAt` is the message's
 * stored timestamp, by the server's clock (the stream leader's in a cluster).
 * Every persist carries JetStream's expected-last-subject-sequence (0 for a new entity), so of
 * two writers only one wins each seqNo; the loser gets a `ConcurrencyError`.
 *
 * Positions: event `i` (from 0) of the message with stream sequence `s` has position
 * `s * 100000 + i`. Stream sequences are assigned at commit and delivered in order, so a reader
 * never finds an event below a position it has seen. Hence at most 100 000 events per persist,
 * and positions stay exact up to stream sequence 90 071 992 546.
 *
 * Sizes: an event larger than `maxEventBytes`, or a persist whose message with its headers
 * (metadata included) is larger than the server's `max_payload` (1 MB by default; 4 bytes more
 * per event when there are several), is refused before anything is sent (`StorageError`
 * reason `"too-large"`).
 *
 * Failures are `StorageError`s (see `docs/event-log-rules.md`): a publish that was sent but not
 * acknowledged (timeout, connection lost or closed) is `"outcome-unknown"`, since the event may
 * be stored; the call's `signal` stops a persist only until its message is sent, after which
 * the persist waits for the acknowledgement (at most `timeout`). A persist on a closed
 * connection is `"closed"` and wrote nothing.
 *
 * Reads use ordered consumers in batches of `readBatchSize` with backpressure, created at the
 * first read of the stream (a stream never read holds nothing on the server); finite reads end
 * at the head as of the call; the end of a read, `cancel` and `signal` delete the consumer. A
 * live read survives a server restart: it recreates its consumer where it stopped within a
 * few seconds of the server being back. A finite read of an entity with at most 8 events before
 * its last message needs no consumer: it gets those messages one by one (direct get), sparing
 * the two requests of a consumer and, on nats-server 2.9, its count over every message block.
 *
 * The stream keeps every event: {@linkcode NatsEventLog.setup} creates it without limits, and
 * the log refuses a stream that expires, caps or trims messages. Run `setup` once.
 *
 * @example Persist and read back over WebSocket
 * ```ts ignore
 * import { NatsEventLog } from "@eventsourced/eventsourced/nats";
 * import { wsconnect } from "@nats-io/nats-core";
 *
 * const nc = await wsconnect({ servers: "ws://127.0.0.1:8080" });
 * const log = new NatsEventLog(nc);
 * await log.setup();
 * await log.persist("counter", "a.b", null, [new Uint8Array([1])], {
 *   metadata: { correlationId: "order-7", headers: { user: "ada" } },
 * });
 * for await (const event of log.eventsById("counter", "a.b", 1)) {
 *   console.log(event.seqNo, event.writtenAt, event.metadata.correlationId);
 * }
 * await nc.close();
 * ```
 */
export class NatsEventLog implements EventLog {
  readonly #nc: NatsConnection;
  #owned = false;
  #closed = false;
  readonly #js: JetStreamClient;
  readonly #stream: string;
  readonly #prefix: string;
  readonly #timeout: number;
  readonly #batchSize: number;
  readonly #maxEventBytes: number;
  readonly #heads = new RecentMap<string, EntityHead>(MAX_REMEMBERED_HEADS);
  readonly #admin: StreamAdmin;
  readonly #persistBatch: Instrumentation["persistBatch"];
  readonly #messages = {
    last: (filter: string) => this.#get({ last_by_subj: filter }),
    get: (query: MessageQuery) => this.#get(query),
  };

  static {
    exposeNatsLog((log) =>
      #heads in log
        ? {
          nc: log.#nc,
          js: log.#js,
          stream: log.#stream,
          prefix: log.#prefix,
          streamAdmin: log.#admin,
          subject: (typeName, id) => log.#subject(typeName, id),
          head: (typeName, id) => log.#head(typeName, id, log.#subject(typeName, id)),
          publish: (subject, body, headers) => log.#publish(subject, body, headers),
          remembered: (subject) => log.#heads.get(subject),
          remember: (subject, head) =>
            head === undefined ? log.#heads.delete(subject) : log.#heads.set(subject, head),
          assertFits: (bytes, what) => log.#assertFits(bytes, what),
        }
        : undefined
    );
  }

  /**
   * Uses `nc`, which stays the caller's: {@linkcode NatsEventLog.close} leaves it open.
   *
   * @example Over an existing connection
   * ```ts ignore
   * import { NatsEventLog } from "@eventsourced/eventsourced/nats";
   * import { wsconnect } from "@nats-io/nats-core";
   *
   * const nc = await wsconnect({ servers: "ws://127.0.0.1:8080" });
   * const log = new NatsEventLog(nc, { stream: "orders", subjectPrefix: "orders" });
   * ```
   */
  constructor(nc: NatsConnection, options: NatsEventLogOptions = {}) {
    if (typeof nc?.request !== "function") {
      throw new TypeError("Invalid nc: expected a NATS connection");
    }
    const read = readOptions("NatsEventLog", options, LOG_OPTION_RULES);
    assertInstrumentation("NatsEventLog", read.instrumentation);
    this.#persistBatch = read.instrumentation?.persistBatch;
    this.#nc = nc;
    this.#stream = read.stream!;
    this.#prefix = read.subjectPrefix!;
    this.#timeout = read.timeout!;
    this.#batchSize = read.readBatchSize!;
    const payloadRoom = (nc.info?.max_payload ?? Infinity) - SINGLE_EVENT_HEADER_BYTES;
    this.#maxEventBytes = read.maxEventBytes ?? Math.min(DEFAULT_MAX_EVENT_BYTES, payloadRoom);
    this.#js = jetstream(nc, { ...read.jetStream, timeout: this.#timeout });
    this.#admin = new StreamAdmin(this.#js, this.#stream, this.#prefix);
  }

  /**
   * Opens a WebSocket connection that the log owns and closes in {@linkcode NatsEventLog.close}.
   *
   * @example Connect with a user and password
   * ```ts ignore
   * import { NatsEventLog } from "@eventsourced/eventsourced/nats";
   *
   * const log = await NatsEventLog.connect({
   *   servers: "wss://nats.example.com:443",
   *   user: "app",
   *   pass: "secret",
   * });
   * await log.setup();
   * await log.close();
   * ```
   */
  static async connect(options: NatsEventLogConnectOptions): Promise<NatsEventLog> {
    const read = readConnectOptions("NatsEventLog.connect", options, LOG_OPTION_RULES);
    const nc = await openConnection(read);
    try {
      const log = new NatsEventLog(nc, pick(options, Object.keys(LOG_OPTION_RULES)));
      log.#owned = true;
      return log;
    } catch (error) {
      await closeOwned(nc);
      throw error;
    }
  }

  /** The connection the log uses. */
  get connection(): NatsConnection {
    return this.#nc;
  }

  /** The largest event in bytes this log accepts. */
  get maxEventBytes(): number {
    return this.#maxEventBytes;
  }

  /**
   * Creates the stream if it is missing: limits retention without any limit (nothing is ever
   * dropped), file storage, `replicas` copies, direct get allowed. An existing stream is
   * checked, not changed: one that expires, caps or trims messages (`max_age`, `max_bytes`,
   * `max_msgs`, `max_msgs_per_subject`, discard policy `old`, retention other than limits) is
   * refused with `StorageError` reason `"invalid-configuration"`. Safe to call again.
   *
   * @example Create the stream with three replicas
   * ```ts ignore
   * import { NatsEventLog } from "@eventsourced/eventsourced/nats";
   *
   * const log = await NatsEventLog.connect({ servers: "ws://127.0.0.1:8080" });
   * await log.setup({ replicas: 3 });
   * ```
   */
  async setup(options: NatsEventLogSetupOptions = {}): Promise<void> {
    for (const retention of ["maxAge", "maxBytes"]) {
      if (options !== null && typeof options === "object" && retention in options) {
        throw new TypeError(
          `Unknown NatsEventLog.setup option "${retention}": an event log keeps every event, ` +
            `so the stream has no retention limits (known options are replicas, storage)`,
        );
      }
    }
    const read = readOptions("NatsEventLog.setup", options, SETUP_OPTION_RULES);
    this.#assertOpen("set up the stream");
    await this.#admin.setup({ replicas: read.replicas!, storage: read.storage! });
  }

  /**
   * Closes the connection if {@linkcode NatsEventLog.connect} opened it; a connection passed
   * to the constructor stays open (and the log usable). Calls on a closed connection fail with
   * `StorageError` reason `"closed"`.
   *
   * @example Close an owned connection
   * ```ts ignore
   * import { NatsEventLog } from "@eventsourced/eventsourced/nats";
   *
   * const log = await NatsEventLog.connect({ servers: "ws://127.0.0.1:8080" });
   * await log.close();
   * ```
   */
  async close(): Promise<void> {
    if (!this.#owned) return;
    this.#closed = true;
    await closeOwned(this.#nc);
  }

  /** {@inheritDoc EventLog.persist} */
  async persist(
    typeName: string,
    id: string,
    lastSeqNo: number | null,
    events: readonly Uint8Array[],
    options?: PersistOptions,
  ): Promise<number> {
    const { signal, metadata, version } = readPersistOptions("persist", options);
    assertPersistArguments(typeName, id, lastSeqNo, events, this.#maxEventBytes, signal);
    const count = events.length;
    if (count > POSITION_FACTOR) {
      throw new RangeError(
        `Invalid events: ${count} events, at most ${POSITION_FACTOR} per persist on NATS`,
      );
    }
    const what = `Cannot persist ${count} event(s) for "${typeName}/${id}" after seqNo ${
      lastSeqNo ?? "none"
    }`;
    this.#assertOpen(what);
    const subject = this.#subject(typeName, id);
    let expected = 0;
    try {
      if (!this.#admin.ready) await withSignal(this.#admin.check(), signal);
      if (lastSeqNo !== null) {
        const known = this.#heads.get(subject);
        if (known !== undefined && known.lastSeqNo === lastSeqNo) {
          expected = known.streamSeq;
        } else {
          const head = await withSignal(this.#head(typeName, id, subject), signal);
          const actual = head === null ? null : head.lastSeqNo;
          if (actual !== lastSeqNo) {
            throw new ConcurrencyError({ typeName, id, expected: lastSeqNo, actual });
          }
          expected = head!.streamSeq;
        }
      }
    } catch (error) {
      if (error instanceof ConcurrencyError || (signal?.aborted && error === signal.reason)) {
        throw error;
      }
      throw storageError(`${what}, nothing was written`, error, "read");
    }
    const message = encodePersist((lastSeqNo ?? 0) + 1, events, expected, version, metadata);
    this.#assertFits(message.headerBytes + message.body.length, what);
    // The last moment a signal or a closed connection stops the persist with nothing sent.
    throwIfAborted(signal);
    if (this.#nc.isClosed()) {
      throw new StorageError(`${what}: the connection is closed, nothing was written`, {
        reason: "closed",
      });
    }
    // One persist is one message: a batch of one write.
    const hook = this.#persistBatch;
    const observer = hook === undefined ? undefined : observeBatch(hook, {
      backend: "nats",
      writes: [{ typeName, id, metadata }],
      events: count,
      bytes: events.reduce((sum, event) => sum + event.length, 0),
    });
    let streamSeq: number;
    try {
      streamSeq = await this.#publish(subject, message.body, message.headers);
      observer?.ended();
    } catch (error) {
      observer?.ended(error);
      this.#heads.delete(subject);
      if (apiCode(error) === WRONG_LAST_SEQUENCE) {
        const actual = await this.#head(typeName, id, subject).then(
          (head) => head === null ? null : head.lastSeqNo,
          () => null,
        );
        throw new ConcurrencyError({ typeName, id, expected: lastSeqNo, actual, cause: error });
      }
      throw storageError(what, error, "write");
    }
    const last = (lastSeqNo ?? 0) + count;
    this.#heads.set(subject, { lastSeqNo: last, streamSeq });
    return last;
  }

  /** {@inheritDoc EventLog.lastSeqNo} */
  async lastSeqNo(typeName: string, id: string, options?: CallOptions): Promise<number | null> {
    const signal = callSignal("lastSeqNo", options);
    assertTypeName(typeName);
    assertId(id);
    throwIfAborted(signal);
    const what = `Cannot read the last seqNo of "${typeName}/${id}"`;
    this.#assertOpen(what);
    try {
      if (!this.#admin.ready) await withSignal(this.#admin.check(), signal);
      const head = await withSignal(this.#head(typeName, id, this.#subject(typeName, id)), signal);
      return head === null ? null : head.lastSeqNo;
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      throw storageError(what, error, "read");
    }
  }

  /**
   * {@inheritDoc EventLog.deleteEvents} On NATS the events of one persist are one message and
   * go together: the messages purged are those before the one holding seqNo `toSeqNo + 1` (or
   * the entity's last event), so fewer events may go than asked.
   */
  async deleteEvents(
    typeName: string,
    id: string,
    toSeqNo: number,
    options?: CallOptions,
  ): Promise<number> {
    const signal = callSignal("deleteEvents", options);
    assertTypeName(typeName);
    assertId(id);
    assertPositiveInteger(toSeqNo, "toSeqNo");
    return await this.#purge(
      typeName,
      id,
      `Cannot delete the events of "${typeName}/${id}" up to seqNo ${toSeqNo}`,
      signal,
      (jsm, entity) => purgeEventsUpTo(this.#messages, jsm, this.#stream, entity, toSeqNo),
    );
  }

  /**
   * {@inheritDoc EventLog.deleteEntity} A purge of the entity's subject. Run it only while the
   * entity runs nowhere: another process's log may remember the entity's last event.
   */
  async deleteEntity(typeName: string, id: string, options?: CallOptions): Promise<number> {
    const signal = callSignal("deleteEntity", options);
    assertTypeName(typeName);
    assertId(id);
    return await this.#purge(
      typeName,
      id,
      `Cannot delete the entity "${typeName}/${id}"`,
      signal,
      (jsm, entity) => purgeEntity(this.#messages, jsm, this.#stream, entity),
    );
  }

  async #purge(
    typeName: string,
    id: string,
    what: string,
    signal: AbortSignal | undefined,
    purge: (jsm: JetStreamManager, entity: PurgedEntity) => Promise<number>,
  ): Promise<number> {
    throwIfAborted(signal);
    this.#assertOpen(what);
    const subject = this.#subject(typeName, id);
    try {
      if (!this.#admin.ready) await withSignal(this.#admin.check(), signal);
      const jsm = await withSignal(this.#admin.manager(), signal);
      return await withSignal(purge(jsm, { typeName, id, subject }), signal);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      throw storageError(what, error, "write");
    } finally {
      this.#heads.delete(subject);
    }
  }

  /** {@inheritDoc EventLog.eventsById} */
  eventsById(
    typeName: string,
    id: string,
    fromSeqNo: number,
    options: ReadOptions = {},
  ): ReadableStream<PersistedEvent> {
    const { live, signal } = readOptions("eventsById", options, READ_OPTION_RULES);
    assertTypeName(typeName);
    assertId(id);
    assertNonNegativeInteger(fromSeqNo, "fromSeqNo");
    const from = Math.max(fromSeqNo, 1);
    const subject = this.#subject(typeName, id);
    const what = `the events of "${typeName}/${id}"`;
    const bounds = { fromSeqNo: from, fromPosition: 0 };
    return consumerStream({
      js: this.#js,
      stream: this.#stream,
      filter: subject,
      batchSize: this.#batchSize,
      signal,
      what,
      plan: async () => {
        this.#assertOpen();
        if (!this.#admin.ready) await this.#admin.check();
        return planEntityRead(this.#messages, {
          typeName,
          id,
          subject,
          fromSeqNo: from,
          live: live!,
          remember: (head) => this.#heads.set(subject, head),
        });
      },
      decode: (msg) =>
        decodeEvents(typeName, id, {
          seq: msg.seq,
          headers: receivedHeaders(typeName, id, msg),
          data: msg.data,
          writtenAt: millisOfNanos(msg.info.timestampNanos),
        }, bounds),
    });
  }

  /** {@inheritDoc EventLog.eventsByType} */
  eventsByType(
    typeName: string,
    fromPosition: number,
    options: ReadOptions = {},
  ): ReadableStream<PersistedEvent> {
    const { live, signal } = readOptions("eventsByType", options, READ_OPTION_RULES);
    assertTypeName(typeName);
    assertNonNegativeInteger(fromPosition, "fromPosition");
    const filter = `${this.#prefix}.${typeName}.>`;
    const what = `the events of type "${typeName}"`;
    const idStart = this.#prefix.length + typeName.length + 2;
    const bounds = { fromSeqNo: 1, fromPosition };
    let lastToken = "";
    let lastId = "";
    return consumerStream({
      js: this.#js,
      stream: this.#stream,
      filter,
      batchSize: this.#batchSize,
      signal,
      what,
      plan: async () => {
        this.#assertOpen();
        if (!this.#admin.ready) await this.#admin.check();
        return planTypeRead(this.#messages, filter, fromPosition, live!);
      },
      decode: (msg) => {
        const token = msg.subject.slice(idStart);
        if (token !== lastToken) {
          lastId = decodeToken(token);
          lastToken = token;
        }
        return decodeEvents(typeName, lastId, {
          seq: msg.seq,
          headers: receivedHeaders(typeName, lastId, msg),
          data: msg.data,
          writtenAt: millisOfNanos(msg.info.timestampNanos),
        }, bounds);
      },
    });
  }

  // A JetStream publish as a plain request: the same message and checks as js.publish, without
  // its per-call option copies, retry state and decoder.
  async #publish(
    subject: string,
    body: Uint8Array,
    h: ReturnType<typeof encodePersist>["headers"],
  ): Promise<number> {
    const reply = await this.#nc.request(subject, body, { headers: h, timeout: this.#timeout });
    const ack = JSON.parse(textDecoder.decode(reply.data)) as { seq?: unknown; error?: ApiError };
    if (ack.error !== undefined) throw new JetStreamApiError(ack.error);
    if (typeof ack.seq !== "number") {
      throw new StorageError(`invalid publish acknowledgement from stream "${this.#stream}"`, {
        reason: "outcome-unknown",
      });
    }
    return ack.seq;
  }

  // A message larger than the server's max_payload would be refused by the client anyway; saying
  // so here names the persist and the limit.
  #assertFits(bytes: number, what: string): void {
    const maxPayload = this.#nc.info?.max_payload;
    if (maxPayload !== undefined && bytes > maxPayload) {
      throw new StorageError(
        `${what}: its message has ${bytes} bytes with headers, more than the server's max_payload (${maxPayload}); nothing was written`,
        { reason: "too-large" },
      );
    }
  }

  #assertOpen(what?: string): void {
    if (this.#closed || this.#nc.isClosed()) {
      const closed = "the event log is closed";
      throw new StorageError(what ? `${what}: ${closed}` : closed, { reason: "closed" });
    }
  }

  #subject(typeName: string, id: string): string {
    return `${this.#prefix}.${typeName}.${encodeToken(id)}`;
  }

  async #get(query: MessageQuery): Promise<StoredMessage | null> {
    const jsm = await this.#admin.manager();
    return getMessage(
      this.#nc,
      jsm,
      this.#js.apiPrefix,
      this.#stream,
      query,
      this.#admin.direct,
      this.#timeout,
    );
  }

  async #head(typeName: string, id: string, subject: string): Promise<EntityHead | null> {
    const last = await this.#get({ last_by_subj: subject });
    if (last === null) {
      this.#heads.delete(subject);
      return null;
    }
    const head = headOf(typeName, id, last);
    this.#heads.set(subject, head);
    return head;
  }
}

function pick<T extends object>(options: T, keys: readonly string[]): Partial<T> {
  const picked: Record<string, unknown> = {};
  for (const key of keys) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) picked[key] = value;
  }
  return picked as Partial<T>;
}
