/**
 * An {@linkcode EventLog} on a NATS JetStream stream.
 *
 * @module
 */

import { headers, type MsgHdrs, nanos, type NatsConnection } from "@nats-io/nats-core";
import {
  type ApiError,
  DiscardPolicy,
  jetstream,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JetStreamOptions,
  type JsMsg,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import type { CallOptions, EventLog, PersistedEvent, ReadOptions } from "../../src/event_log.ts";
import { ConcurrencyError } from "../../src/errors.ts";
import {
  assertEventBytes,
  assertId,
  assertLastSeqNo,
  assertNonNegativeInteger,
  assertPositiveInteger,
  assertTypeName,
  throwIfAborted,
} from "../../src/_validate.ts";
import { type NatsConnectOptions, openConnection } from "./connect_options.ts";
import { decodeToken, encodeToken } from "./token.ts";
import {
  COUNT_HEADER,
  decodeBatch,
  encodeBatch,
  MAX_STREAM_SEQUENCE,
  type MessageSeqNos,
  POSITION_FACTOR,
  readCount,
  scanSeqNos,
  SEQ_NO_HEADER,
  toPosition,
} from "./_message.ts";
import {
  apiCode,
  getMessage,
  type MessageQuery,
  type StoredMessage,
  STREAM_NOT_FOUND,
  withSignal,
  WRONG_LAST_SEQUENCE,
} from "./_jetstream.ts";
import { consumerStream, errorMessage, type ReadPlan } from "./_reader.ts";

/**
 * Options of a {@linkcode NatsEventLog}.
 *
 * @example Where an entity's events go
 * ```ts
 * import { encodeToken, type NatsEventLogOptions } from "@eventsourced/eventsourced/nats";
 * import assert from "node:assert/strict";
 *
 * const options: NatsEventLogOptions = {
 *   stream: "shop",
 *   subjectPrefix: "shop.events",
 *   timeout: 2_000,
 * };
 * // Subscribe to these subjects with your own consumers:
 * const subject = `${options.subjectPrefix}.cart.${encodeToken("c.1")}`;
 * assert.equal(subject, "shop.events.cart.c=2E1");
 * ```
 */
export interface NatsEventLogOptions {
  /** The JetStream stream; default `"eventsourced"`. */
  stream?: string;
  /**
   * The first token(s) of every subject; default `"eventsourced"`. An entity's events go to
   * `<subjectPrefix>.<typeName>.<encodeToken(id)>`.
   */
  subjectPrefix?: string;
  /** Milliseconds each request (publish, get) may take before it fails; default 5 000. */
  timeout?: number;
  /** Messages per pull of a read; default 1 024. */
  readBatchSize?: number;
  /** Further JetStream options, such as `domain` or `apiPrefix`. */
  jetStream?: Omit<JetStreamOptions, "timeout">;
}

/**
 * Options of {@linkcode NatsEventLog.setup}.
 *
 * @example Production and test streams
 * ```ts
 * import type { NatsEventLogSetupOptions } from "@eventsourced/eventsourced/nats";
 * import assert from "node:assert/strict";
 *
 * const DAY = 24 * 60 * 60 * 1000;
 * const production: NatsEventLogSetupOptions = { replicas: 3, maxAge: 365 * DAY };
 * const tests: NatsEventLogSetupOptions = { storage: "memory" };
 * // await eventLog.setup(process.env.CI ? tests : production);
 * assert.equal(production.storage ?? "file", "file");
 * assert.equal(tests.replicas ?? 1, 1);
 * ```
 */
export interface NatsEventLogSetupOptions {
  /** Replicas of the stream on a clustered server; default 1. */
  replicas?: number;
  /** `"file"` (default) or `"memory"` (lost when the server stops: tests only). */
  storage?: "file" | "memory";
  /** Drop events older than this many milliseconds. Default: never. */
  maxAge?: number;
  /** Refuse new events once the stream holds this many bytes. Default: no limit. */
  maxBytes?: number;
}

/**
 * Options of {@linkcode NatsEventLog.connect}: the connection's and the log's.
 *
 * @example A server that does not answer fails at connect
 * ```ts
 * import { NatsEventLog, type NatsEventLogConnectOptions } from "@eventsourced/eventsourced/nats";
 * import assert from "node:assert/strict";
 *
 * const options: NatsEventLogConnectOptions = {
 *   servers: "ws://127.0.0.1:1", // nothing listens on port 1
 *   name: "shop-api",
 *   stream: "shop",
 *   subjectPrefix: "shop.events",
 * };
 * await assert.rejects(
 *   NatsEventLog.connect(options),
 *   /Cannot connect to NATS at ws:\/\/127\.0\.0\.1:1/,
 * );
 * ```
 */
export type NatsEventLogConnectOptions = NatsConnectOptions & NatsEventLogOptions;

const EXPECTED_LAST_SUBJECT_SEQUENCE = "Nats-Expected-Last-Subject-Sequence";
const MAX_REMEMBERED_HEADS = 100_000;
const textDecoder = new TextDecoder();
// Up to this many events before fromSeqNo, a read starts at the entity's first message.
const SCAN_LIMIT = 512;

interface EntityHead {
  readonly lastSeqNo: number;
  readonly streamSeq: number;
}

type Decoded = MessageSeqNos;

/**
 * Events in a NATS JetStream stream, reached over the user's `NatsConnection` (WebSocket from
 * `wsconnect`, or TCP from `@nats-io/transport-node`) or over a WebSocket connection that
 * {@linkcode NatsEventLog.connect} opens.
 *
 * Layout: one subject per entity, `<subjectPrefix>.<typeName>.<encodeToken(id)>`, so any id is
 * stored exactly. One persist is one message (all or none, on nats-server 2.9 and later) with
 * the seqNo of its first event in the header `Eventsourced-Seq-No` and, for more than one
 * event, their number in `Eventsourced-Count` and the events length-prefixed in the body.
 * Every persist carries JetStream's expected-last-subject-sequence (0 for a new entity), so of
 * two writers only one wins each seqNo; the loser gets a `ConcurrencyError`.
 *
 * Positions: event `i` (from 0) of the message with stream sequence `s` has position
 * `s * 100000 + i`. Stream sequences are assigned at commit and delivered in order, so a reader
 * never finds an event below a position it has seen. Hence at most 100 000 events per persist,
 * and positions stay exact up to stream sequence 90 071 992 546.
 *
 * A persist must fit in one message: the server's `max_payload` (1 MB by default) bounds the
 * bytes of one persist (plus 4 bytes per event when there are several); a bigger one fails
 * before anything is written.
 *
 * Reads use ordered consumers in batches of `readBatchSize` with backpressure; finite reads end
 * at the head as of the call; the end of a read, `cancel` and `signal` delete the consumer.
 *
 * Run {@linkcode NatsEventLog.setup} once to create the stream.
 *
 * @example Persist and read back over WebSocket
 * ```ts ignore
 * import { NatsEventLog } from "@eventsourced/eventsourced/nats";
 * import { wsconnect } from "@nats-io/nats-core";
 *
 * const nc = await wsconnect({ servers: "ws://127.0.0.1:8080" });
 * const log = new NatsEventLog(nc);
 * await log.setup();
 * await log.persist("counter", "a.b", null, [new Uint8Array([1])]);
 * for await (const event of log.eventsById("counter", "a.b", 1)) console.log(event.seqNo);
 * await nc.close();
 * ```
 */
export class NatsEventLog implements EventLog {
  readonly #nc: NatsConnection;
  #owned = false;
  readonly #js: JetStreamClient;
  readonly #stream: string;
  readonly #prefix: string;
  readonly #timeout: number;
  readonly #batchSize: number;
  readonly #heads = new Map<string, EntityHead>();
  #jsm: Promise<JetStreamManager> | undefined;
  #checked: Promise<void> | undefined;
  #ready = false;
  #direct = true;

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
    this.#nc = nc;
    this.#stream = options.stream ?? "eventsourced";
    this.#prefix = options.subjectPrefix ?? "eventsourced";
    this.#timeout = options.timeout ?? 5_000;
    this.#batchSize = options.readBatchSize ?? 1_024;
    if (!/^[^\s.*>/\\]+$/.test(this.#stream)) {
      throw new TypeError(`Invalid stream ${JSON.stringify(this.#stream)}: not a stream name`);
    }
    if (!/^[^\s.*>]+(\.[^\s.*>]+)*$/.test(this.#prefix)) {
      throw new TypeError(
        `Invalid subjectPrefix ${
          JSON.stringify(this.#prefix)
        }: expected subject tokens without wildcards`,
      );
    }
    assertPositiveInteger(this.#timeout, "timeout");
    assertPositiveInteger(this.#batchSize, "readBatchSize");
    this.#js = jetstream(nc, { ...options.jetStream, timeout: this.#timeout });
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
    const nc = await openConnection(options);
    try {
      const log = new NatsEventLog(nc, options);
      log.#owned = true;
      return log;
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  /** The connection the log uses. */
  get connection(): NatsConnection {
    return this.#nc;
  }

  /**
   * Creates the stream if it is missing: limits retention (nothing is dropped unless
   * `maxAge` or `maxBytes` is set; when full, new writes are refused rather than old events
   * dropped), file storage, `replicas` copies, direct get allowed. An existing stream is
   * checked, not changed. Safe to call again.
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
    const jsm = await this.#manager();
    const subjects = `${this.#prefix}.>`;
    try {
      const info = await jsm.streams.info(this.#stream);
      this.#checkConfig(info.config.subjects ?? []);
      this.#direct = info.config.allow_direct === true;
      this.#ready = true;
      return;
    } catch (error) {
      if (apiCode(error) !== STREAM_NOT_FOUND) throw error;
    }
    const replicas = options.replicas ?? 1;
    assertPositiveInteger(replicas, "replicas");
    await jsm.streams.add({
      name: this.#stream,
      subjects: [subjects],
      retention: RetentionPolicy.Limits,
      storage: options.storage === "memory" ? StorageType.Memory : StorageType.File,
      num_replicas: replicas,
      discard: DiscardPolicy.New,
      max_age: options.maxAge === undefined ? 0 : nanos(options.maxAge),
      max_bytes: options.maxBytes ?? -1,
      max_msgs: -1,
      max_msgs_per_subject: -1,
      allow_direct: true,
    });
    this.#direct = true;
    this.#ready = true;
  }

  /**
   * Closes the connection if {@linkcode NatsEventLog.connect} opened it; a connection passed
   * to the constructor stays open.
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
    if (this.#owned && !this.#nc.isClosed()) await this.#nc.close();
  }

  /** {@inheritDoc EventLog.persist} */
  async persist(
    typeName: string,
    id: string,
    lastSeqNo: number | null,
    events: readonly Uint8Array[],
    options?: CallOptions,
  ): Promise<number> {
    assertTypeName(typeName);
    assertId(id);
    assertLastSeqNo(lastSeqNo);
    assertEventBytes(events);
    if (events.length > POSITION_FACTOR) {
      throw new RangeError(
        `Invalid events: ${events.length} events, at most ${POSITION_FACTOR} per persist on NATS`,
      );
    }
    const signal = options?.signal;
    throwIfAborted(signal);
    if (!this.#ready) await withSignal(this.#check(), signal);
    const subject = this.#subject(typeName, id);
    let expected = 0;
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
    const first = (lastSeqNo ?? 0) + 1;
    const count = events.length;
    const h = headers();
    h.set(SEQ_NO_HEADER, `${first}`);
    if (count > 1) h.set(COUNT_HEADER, `${count}`);
    h.set(EXPECTED_LAST_SUBJECT_SEQUENCE, `${expected}`);
    const body = count === 1 ? events[0]! : encodeBatch(events);
    let streamSeq: number;
    try {
      streamSeq = await withSignal(this.#publish(subject, body, h), signal);
    } catch (error) {
      this.#heads.delete(subject);
      if (apiCode(error) === WRONG_LAST_SEQUENCE) {
        const actual = await this.#head(typeName, id, subject).then(
          (head) => head === null ? null : head.lastSeqNo,
          () => null,
        );
        throw new ConcurrencyError({ typeName, id, expected: lastSeqNo, actual, cause: error });
      }
      if (signal?.aborted && error === signal.reason) throw error;
      throw new Error(
        `Cannot persist ${count} event(s) for "${typeName}/${id}" after seqNo ${
          lastSeqNo ?? "none"
        }: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    const last = first + count - 1;
    this.#remember(subject, { lastSeqNo: last, streamSeq });
    return last;
  }

  /** {@inheritDoc EventLog.lastSeqNo} */
  async lastSeqNo(typeName: string, id: string, options?: CallOptions): Promise<number | null> {
    assertTypeName(typeName);
    assertId(id);
    const signal = options?.signal;
    throwIfAborted(signal);
    if (!this.#ready) await withSignal(this.#check(), signal);
    const head = await withSignal(this.#head(typeName, id, this.#subject(typeName, id)), signal);
    return head === null ? null : head.lastSeqNo;
  }

  /** {@inheritDoc EventLog.eventsById} */
  eventsById(
    typeName: string,
    id: string,
    fromSeqNo: number,
    options: ReadOptions = {},
  ): ReadableStream<PersistedEvent> {
    assertTypeName(typeName);
    assertId(id);
    assertNonNegativeInteger(fromSeqNo, "fromSeqNo");
    const from = Math.max(fromSeqNo, 1);
    const subject = this.#subject(typeName, id);
    const live = options.live === true;
    const plan = async (): Promise<ReadPlan> => {
      if (!this.#ready) await this.#check();
      if (!live && from === 1) {
        // A read from the start needs the consumer anyway: find the head beside its creation.
        const endSeq = this.#last(subject).then((last) => {
          if (last === null) return null;
          const head = this.#decodeHeaders(typeName, id, last);
          this.#remember(subject, {
            lastSeqNo: head.firstSeqNo + head.count - 1,
            streamSeq: last.seq,
          });
          return last.seq;
        });
        return { startSeq: 1, endSeq };
      }
      const last = await this.#last(subject);
      const head = last === null ? null : this.#decodeHeaders(typeName, id, last);
      if (last !== null && head !== null) {
        this.#remember(subject, {
          lastSeqNo: head.firstSeqNo + head.count - 1,
          streamSeq: last.seq,
        });
      }
      const headLast = head === null ? 0 : head.firstSeqNo + head.count - 1;
      if (live) {
        if (last === null || head === null) return { startSeq: 1, endSeq: undefined };
        if (headLast < from) return { startSeq: last.seq + 1, endSeq: undefined };
        const startSeq = head.firstSeqNo <= from
          ? last.seq
          : await this.#startOf(typeName, id, subject, from, last.seq);
        return { startSeq, endSeq: undefined };
      }
      if (last === null || head === null || headLast < from) return { events: [] };
      if (head.firstSeqNo <= from) {
        return {
          events: this.#events(typeName, id, last.seq, head, last.data, from, 0),
        };
      }
      return {
        startSeq: await this.#startOf(typeName, id, subject, from, last.seq),
        endSeq: last.seq,
      };
    };
    return consumerStream({
      js: this.#js,
      stream: this.#stream,
      filter: subject,
      batchSize: this.#batchSize,
      signal: options.signal,
      what: `the events of "${typeName}/${id}"`,
      plan,
      decode: (msg) => this.#decodeMessage(typeName, id, msg, from, 0),
    });
  }

  /** {@inheritDoc EventLog.eventsByType} */
  eventsByType(
    typeName: string,
    fromPosition: number,
    options: ReadOptions = {},
  ): ReadableStream<PersistedEvent> {
    assertTypeName(typeName);
    assertNonNegativeInteger(fromPosition, "fromPosition");
    const filter = `${this.#prefix}.${typeName}.>`;
    const startSeq = Math.max(Math.floor(fromPosition / POSITION_FACTOR), 1);
    const live = options.live === true;
    const idStart = this.#prefix.length + typeName.length + 2;
    const plan = async (): Promise<ReadPlan> => {
      if (!this.#ready) await this.#check();
      if (live) return { startSeq, endSeq: undefined };
      // The head is found beside the consumer's creation.
      const endSeq = this.#last(filter).then((last) =>
        last === null || last.seq < startSeq ? null : last.seq
      );
      return { startSeq, endSeq };
    };
    let lastToken = "";
    let lastId = "";
    return consumerStream({
      js: this.#js,
      stream: this.#stream,
      filter,
      batchSize: this.#batchSize,
      signal: options.signal,
      what: `the events of type "${typeName}"`,
      plan,
      decode: (msg) => {
        const token = msg.subject.slice(idStart);
        if (token !== lastToken) {
          lastId = decodeToken(token);
          lastToken = token;
        }
        return this.#decodeMessage(typeName, lastId, msg, 1, fromPosition);
      },
    });
  }

  // A JetStream publish as a plain request: the same message and checks as js.publish, without
  // its per-call option copies, retry state and decoder.
  async #publish(subject: string, body: Uint8Array, h: MsgHdrs): Promise<number> {
    let reply;
    try {
      reply = await this.#nc.request(subject, body, { headers: h, timeout: this.#timeout });
    } catch (error) {
      if ((error as { isNoResponders?: () => boolean }).isNoResponders?.()) {
        throw new Error(`no stream captures "${subject}" (is stream "${this.#stream}" there?)`, {
          cause: error,
        });
      }
      throw error;
    }
    const ack = JSON.parse(textDecoder.decode(reply.data)) as {
      seq?: unknown;
      error?: ApiError;
    };
    if (ack.error !== undefined) throw new JetStreamApiError(ack.error);
    if (typeof ack.seq !== "number") throw new Error("invalid publish acknowledgement");
    return ack.seq;
  }

  #subject(typeName: string, id: string): string {
    return `${this.#prefix}.${typeName}.${encodeToken(id)}`;
  }

  #remember(subject: string, head: EntityHead): void {
    const heads = this.#heads;
    heads.delete(subject);
    if (heads.size >= MAX_REMEMBERED_HEADS) heads.delete(heads.keys().next().value!);
    heads.set(subject, head);
  }

  #manager(): Promise<JetStreamManager> {
    if (this.#jsm === undefined) {
      const jsm = this.#js.jetstreamManager(false);
      this.#jsm = jsm;
      jsm.catch(() => (this.#jsm = undefined));
    }
    return this.#jsm;
  }

  // Looks the stream up once (again after a failure): a missing stream is a clear error.
  #check(): Promise<void> {
    if (this.#checked === undefined) {
      const checked = (async () => {
        const jsm = await this.#manager();
        let info;
        try {
          info = await jsm.streams.info(this.#stream);
        } catch (error) {
          if (apiCode(error) === STREAM_NOT_FOUND) {
            throw new Error(
              `Cannot use the NATS event log: stream "${this.#stream}" does not exist (call setup() first)`,
              { cause: error },
            );
          }
          throw new Error(
            `Cannot use the NATS event log: looking up stream "${this.#stream}" failed: ${
              errorMessage(error)
            }`,
            { cause: error },
          );
        }
        this.#checkConfig(info.config.subjects ?? []);
        this.#direct = info.config.allow_direct === true;
        this.#ready = true;
      })();
      this.#checked = checked;
      checked.catch(() => (this.#checked = undefined));
    }
    return this.#checked;
  }

  #checkConfig(subjects: readonly string[]): void {
    const wanted = `${this.#prefix}.>`;
    if (!subjects.includes(wanted) && !subjects.includes(">")) {
      throw new Error(
        `Cannot use stream "${this.#stream}": its subjects ${
          JSON.stringify(subjects)
        } do not include "${wanted}"`,
      );
    }
  }

  #last(filter: string): Promise<StoredMessage | null> {
    return this.#get({ last_by_subj: filter });
  }

  async #get(query: MessageQuery): Promise<StoredMessage | null> {
    const jsm = await this.#manager();
    return getMessage(
      this.#nc,
      jsm,
      this.#js.apiPrefix,
      this.#stream,
      query,
      this.#direct,
      this.#timeout,
    );
  }

  // The stream sequence of the entity's message that holds `fromSeqNo` (at most `head`'s), so
  // a read from a snapshot does not pass every older event: few events are skipped by reading
  // from the entity's start, more by a binary search over stream sequences with direct gets.
  async #startOf(
    typeName: string,
    id: string,
    subject: string,
    fromSeqNo: number,
    headSeq: number,
  ): Promise<number> {
    if (fromSeqNo <= SCAN_LIMIT) return 1;
    let low = 1;
    let high = headSeq;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const msg = await this.#get({ seq: middle, next_by_subj: subject });
      if (msg === null) return 1; // Not expected: the head is on the subject.
      const { firstSeqNo, count } = this.#decodeHeaders(typeName, id, msg);
      if (firstSeqNo > fromSeqNo) high = middle;
      else if (firstSeqNo + count - 1 < fromSeqNo) low = msg.seq + 1;
      else return msg.seq;
    }
    return low;
  }

  async #head(typeName: string, id: string, subject: string): Promise<EntityHead | null> {
    const last = await this.#last(subject);
    if (last === null) {
      this.#heads.delete(subject);
      return null;
    }
    const decoded = this.#decodeHeaders(typeName, id, last);
    const head = { lastSeqNo: decoded.firstSeqNo + decoded.count - 1, streamSeq: last.seq };
    this.#remember(subject, head);
    return head;
  }

  #decodeHeaders(
    typeName: string,
    id: string,
    msg: { readonly seq: number; readonly headers: MsgHdrs | undefined },
  ): Decoded {
    const h = msg.headers;
    const firstSeqNo = readCount(h?.get(SEQ_NO_HEADER) ?? "");
    const countHeader = h?.get(COUNT_HEADER) ?? "";
    const count = countHeader === "" ? 1 : readCount(countHeader);
    if (firstSeqNo === undefined || count === undefined) {
      throw new Error(
        `Message ${msg.seq} of "${typeName}/${id}" has no valid ${SEQ_NO_HEADER} / ${COUNT_HEADER} headers: not written by eventsourced`,
      );
    }
    return { firstSeqNo, count };
  }

  #decodeMessage(
    typeName: string,
    id: string,
    msg: JsMsg,
    fromSeqNo: number,
    fromPosition: number,
  ): PersistedEvent[] {
    const seq = msg.seq;
    const scanned = scanSeqNos(msg);
    const decoded = scanned === undefined || scanned === null
      ? this.#decodeHeaders(typeName, id, { seq, headers: msg.headers })
      : scanned;
    return this.#events(typeName, id, seq, decoded, msg.data, fromSeqNo, fromPosition);
  }

  #events(
    typeName: string,
    id: string,
    streamSeq: number,
    decoded: Decoded,
    data: Uint8Array,
    fromSeqNo: number,
    fromPosition: number,
  ): PersistedEvent[] {
    const { firstSeqNo, count } = decoded;
    if (streamSeq > MAX_STREAM_SEQUENCE) {
      throw new RangeError(
        `Message ${streamSeq} of "${typeName}/${id}" is beyond stream sequence ${MAX_STREAM_SEQUENCE}, the last whose positions are exact`,
      );
    }
    let payloads: Uint8Array[];
    try {
      payloads = count === 1 ? [data.slice()] : decodeBatch(data, count);
    } catch (cause) {
      throw new Error(
        `Cannot decode the events at seqNos ${firstSeqNo} to ${
          firstSeqNo + count - 1
        } of "${typeName}/${id}" (stream message ${streamSeq}): not a valid batch: ${
          errorMessage(cause)
        }`,
        { cause },
      );
    }
    const events: PersistedEvent[] = [];
    for (let i = 0; i < count; i++) {
      const seqNo = firstSeqNo + i;
      const position = toPosition(streamSeq, i);
      if (seqNo < fromSeqNo || position < fromPosition) continue;
      events.push({ typeName, id, seqNo, position, bytes: payloads[i]! });
    }
    return events;
  }
}
