// The loop of one run: read the events after the offset live, in batches; hand each batch to
// the handler in the offset store's unit of work; on failure follow the error strategy (retry
// with backoff, skip, stop). Every wait ends when the run's signal aborts.

import type { PersistedEvent } from "../src/event_log.ts";
import { onAbort } from "../src/_abort.ts";
import { errorText } from "../src/_error_text.ts";
import { isProjectionError, ProjectionError } from "./errors.ts";
import { eventRetryLimit, exhaustedAction, readRetryLimit } from "./error_strategy.ts";
import { BatchReader } from "./_batch_reader.ts";
import type { Cursor } from "./_cursor.ts";
import type { Progress } from "./_progress.ts";
import { retry, type RetryPolicy } from "./_retry.ts";
import type { LoopSettings } from "./_settings.ts";
import type { ProjectionContext } from "./projection_options.ts";
import { observeBatch } from "../src/_observed_batch.ts";

type Outcome = "ok" | "stop";

const noWork = () => Promise.resolve();
// How often, at most, a projection asks the log how far behind it is.
const COUNT_EVERY_MS = 1_000;

function isOffsetConflict(error: unknown): error is ProjectionError {
  return isProjectionError(error) && error.reason === "offset-conflict";
}

/** One run of a projection, holding its lease until {@linkcode RunLoop.run} ends. */
export class RunLoop<Envelope, Tx> {
  readonly #settings: LoopSettings<Envelope, Tx>;
  readonly #progress: Progress;
  readonly #cursor: Cursor<Tx>;
  readonly #signal: AbortSignal;
  // Built once per run, not per event: the event being handled is `#handling`.
  readonly #eventPolicy: RetryPolicy;
  #handling: PersistedEvent | undefined;
  #counting = false;
  #nextCount = 0;

  constructor(
    settings: LoopSettings<Envelope, Tx>,
    progress: Progress,
    cursor: Cursor<Tx>,
    signal: AbortSignal,
  ) {
    this.#settings = settings;
    this.#progress = progress;
    this.#cursor = cursor;
    this.#signal = signal;
    this.#eventPolicy = {
      ...this.#policy(eventRetryLimit(settings.strategy)),
      onFailure: (error) => this.#eventFailed(error, this.#handling!),
    };
  }

  /**
   * Reads and handles events until the signal aborts or the error strategy stops the run. A
   * failed read is reported and read again from the offset.
   */
  async run(): Promise<void> {
    await retry((succeeded) => this.#readAndHandle(succeeded), {
      ...this.#policy(readRetryLimit(this.#settings.strategy)),
      onFailure: (error) => {
        this.#progress.report(error as ProjectionError);
        return true;
      },
    });
  }

  #policy(limit: number): Omit<RetryPolicy, "onFailure"> {
    return {
      strategy: this.#settings.strategy,
      limit,
      signal: this.#signal,
      onRetry: (retries) => void (this.#progress.retries = retries),
    };
  }

  // Resolves when the run is to end; rejects with a "read-failed" ProjectionError.
  async #readAndHandle(succeeded: () => void): Promise<void> {
    const { batchSize, batchMs, name } = this.#settings;
    const signal = this.#signal;
    const what = this.#cursor.describeRead();
    let batches: BatchReader | undefined;
    // Cancelling the reader ends a pending read at once, even when the event log is slow to
    // notice the signal.
    const stopReading = onAbort(signal, () => void batches?.cancel(signal.reason));
    try {
      batches = new BatchReader(this.#cursor.read(signal), batchSize, batchMs);
      for (;;) {
        const batch = await batches.next();
        if (signal.aborted) return;
        if (batch === null) throw new Error("the live read ended");
        succeeded();
        if (await this.#process(batch) === "stop") return;
      }
    } catch (error) {
      if (signal.aborted) return;
      throw new ProjectionError(
        `Projection "${name}" cannot read ${what}: ${errorText(error)}`,
        { projection: name, reason: "read-failed", cause: error },
      );
    } finally {
      stopReading();
      await batches?.cancel(signal.reason);
    }
  }

  async #process(batch: readonly PersistedEvent[]): Promise<Outcome> {
    if (batch.length > 1) {
      try {
        await this.#commit(batch);
        return "ok";
      } catch (error) {
        if (this.#signal.aborted) return "stop";
        if (isOffsetConflict(error)) {
          this.#progress.report(error);
          return "stop";
        }
        // Handle the batch again one event at a time, to find the event that fails.
      }
    }
    for (const event of batch) {
      if (await this.#processOne(event) === "stop") return "stop";
    }
    return "ok";
  }

  async #processOne(event: PersistedEvent): Promise<Outcome> {
    this.#handling = event;
    const handled = await retry(() => this.#commit([event]), this.#eventPolicy);
    if (handled.status === "done") return "ok";
    if (
      handled.status === "stopped" || exhaustedAction(this.#settings.strategy) === "stop"
    ) return "stop";
    return await this.#skip(event);
  }

  // Reports a failed attempt at `event`; gives up at once on an offset conflict.
  #eventFailed(error: unknown, event: PersistedEvent): boolean {
    const { name } = this.#settings;
    if (isOffsetConflict(error)) {
      this.#progress.report(error);
      return false;
    }
    this.#progress.report(
      new ProjectionError(
        `Projection "${name}" failed on event "${event.typeName}/${event.id}" seqNo ${event.seqNo} at position ${event.position}: ${
          errorText(error)
        }`,
        { projection: name, reason: "event-failed", position: event.position, cause: error },
      ),
    );
    return true;
  }

  // Stores the offset past `event` without its writes; retried until it is stored or the run
  // ends, since the decision to skip is made.
  async #skip(event: PersistedEvent): Promise<Outcome> {
    const { name } = this.#settings;
    const to = event.position;
    const skipped = await retry(
      () => this.#cursor.commit([event], noWork, this.#signal),
      {
        ...this.#policy(Infinity),
        onFailure: (error) => {
          this.#progress.report(
            isProjectionError(error) ? error : new ProjectionError(
              `Projection "${name}" cannot store offset ${to} to skip an event: ${
                errorText(error)
              }`,
              { projection: name, reason: "store-failed", position: to, cause: error },
            ),
          );
          return !isOffsetConflict(error);
        },
      },
    );
    if (skipped.status !== "done") return "stop";
    this.#progress.skipped++;
    return "ok";
  }

  async #commit(events: readonly PersistedEvent[]): Promise<void> {
    const { name, instrumentation } = this.#settings;
    const hook = instrumentation?.projectionBatch;
    const observer = hook === undefined ? undefined : observeBatch(hook, name, events);
    // The batch ends once its offsets are stored and the progress shows them, before whoever
    // waits for them is woken, so a caller woken by `whenCaughtUp` finds the batch recorded.
    let ended = false;
    const committed = observer === undefined ? undefined : () => {
      ended = true;
      observer.ended();
    };
    try {
      await this.#handleAndStore(events, committed);
    } catch (error) {
      if (!ended) observer?.ended(error);
      throw error;
    }
    if (observer?.behind !== undefined) this.#countBehind(observer.behind);
  }

  // Asks the log how many events lie after the offsets, without holding up the run: at most one
  // question in flight and one a second, and a failed one only goes unreported.
  #countBehind(report: (events: number) => void): void {
    const now = performance.now();
    if (this.#counting || now < this.#nextCount) return;
    const counted = this.#cursor.countAfter(this.#signal);
    if (counted === undefined) return;
    this.#counting = true;
    this.#nextCount = now + COUNT_EVERY_MS;
    counted.then(report, () => {}).finally(() => this.#counting = false);
  }

  async #handleAndStore(
    events: readonly PersistedEvent[],
    committed: (() => void) | undefined,
  ): Promise<void> {
    const { handleBatch, handleEvent, decode, name } = this.#settings;
    const signal = this.#signal;
    await this.#cursor.commit(
      events,
      async (tx) => {
        const context: ProjectionContext<Tx> = { tx, signal, name };
        if (handleBatch !== undefined) {
          await handleBatch(events.map(decode), context);
        } else {
          for (const event of events) await handleEvent!(decode(event), context);
        }
      },
      signal,
      committed,
    );
  }
}
