// The event log's stream on the server: created by setup(), looked up once before the first
// call, and refused when its settings would lose events. An event log keeps every event until
// it is deleted on purpose, so a stream that expires, caps or trims messages breaks entities
// (their first events vanish, they cannot be rebuilt) and projections (they skip silently).

import {
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { StorageError } from "../../src/errors.ts";
import { apiCode, storageError, STREAM_NOT_FOUND } from "./_storage_errors.ts";

/** How {@linkcode StreamAdmin.setup} creates a missing stream. */
export interface StreamSetup {
  readonly replicas: number;
  readonly storage: "file" | "memory";
}

/** The stream of one event log: its creation, lookup and checks. */
export class StreamAdmin {
  readonly #js: JetStreamClient;
  readonly #stream: string;
  readonly #subjects: string;
  #jsm: Promise<JetStreamManager> | undefined;
  #checked: Promise<void> | undefined;
  /** Whether the stream was found and fits. */
  ready = false;
  /** Whether the stream allows direct gets (faster head lookups). */
  direct = true;

  constructor(js: JetStreamClient, stream: string, subjectPrefix: string) {
    this.#js = js;
    this.#stream = stream;
    this.#subjects = `${subjectPrefix}.>`;
  }

  /** The JetStream manager, made once (again after a failure). */
  manager(): Promise<JetStreamManager> {
    if (this.#jsm === undefined) {
      const jsm = this.#js.jetstreamManager(false);
      this.#jsm = jsm;
      jsm.catch(() => (this.#jsm = undefined));
    }
    return this.#jsm;
  }

  /** Creates the stream if it is missing; checks an existing one without changing it. */
  async setup(options: StreamSetup): Promise<void> {
    const what = `Cannot set up the NATS event log stream "${this.#stream}"`;
    try {
      const jsm = await this.manager();
      try {
        const info = await jsm.streams.info(this.#stream);
        this.#use(info.config);
        return;
      } catch (error) {
        if (apiCode(error) !== STREAM_NOT_FOUND) throw error;
      }
      const info = await jsm.streams.add({
        name: this.#stream,
        subjects: [this.#subjects],
        retention: RetentionPolicy.Limits,
        storage: options.storage === "memory" ? StorageType.Memory : StorageType.File,
        num_replicas: options.replicas,
        discard: DiscardPolicy.New,
        max_age: 0,
        max_bytes: -1,
        max_msgs: -1,
        max_msgs_per_subject: -1,
        allow_direct: true,
      });
      this.#use(info.config);
    } catch (error) {
      throw storageError(what, error, "read");
    }
  }

  /** Looks the stream up once (again after a failure): a missing stream is `schema-missing`. */
  check(): Promise<void> {
    if (this.#checked === undefined) {
      const checked = (async () => {
        let config;
        try {
          const jsm = await this.manager();
          config = (await jsm.streams.info(this.#stream)).config;
        } catch (error) {
          if (apiCode(error) === STREAM_NOT_FOUND) {
            throw new StorageError(
              `Cannot use the NATS event log: stream "${this.#stream}" does not exist (call setup() first)`,
              { reason: "schema-missing", cause: error },
            );
          }
          throw storageError(
            `Cannot use the NATS event log: looking up stream "${this.#stream}" failed`,
            error,
            "read",
          );
        }
        this.#use(config);
      })();
      this.#checked = checked;
      checked.catch(() => (this.#checked = undefined));
    }
    return this.#checked;
  }

  #use(config: StreamConfig): void {
    const problems = streamProblems(config, this.#subjects);
    if (problems.length > 0) {
      throw new StorageError(
        `Cannot use stream "${this.#stream}" as an event log: ${
          problems.join("; ")
        }. An event log keeps every event; change the stream (for example with ` +
          `\`nats stream edit ${this.#stream}\`) or use another one`,
        { reason: "invalid-configuration" },
      );
    }
    this.direct = config.allow_direct === true;
    this.ready = true;
  }
}

/** What in `config` does not fit an event log on the subjects `subjects`. */
export function streamProblems(config: Partial<StreamConfig>, subjects: string): string[] {
  const problems: string[] = [];
  const captured = config.subjects ?? [];
  if (!captured.includes(subjects) && !captured.includes(">")) {
    problems.push(`its subjects ${JSON.stringify(captured)} do not include "${subjects}"`);
  }
  if (config.retention !== undefined && config.retention !== RetentionPolicy.Limits) {
    problems.push(`its retention "${config.retention}" removes messages once consumed`);
  }
  const limits: [string, number | undefined][] = [
    ["max_age", config.max_age],
    ["max_bytes", config.max_bytes],
    ["max_msgs", config.max_msgs],
    ["max_msgs_per_subject", config.max_msgs_per_subject],
  ];
  const set = limits.filter(([, value]) => value !== undefined && value > 0);
  for (const [name, value] of set) {
    problems.push(
      name === "max_age"
        ? `max_age ${value} ns lets the server expire old events`
        : `${name} ${value} caps what the stream holds`,
    );
  }
  if (config.discard === DiscardPolicy.Old) {
    problems.push(`its discard policy "old" drops the oldest events when a limit is reached`);
  }
  return problems;
}
