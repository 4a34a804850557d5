// The life of a projection's runs, shared by the projections over one type and over several:
// one loop at a time per object; `start` takes the name and loads the offsets within
// startTimeoutMs, the loop runs until stopped, and the name is given back within the same bound.

import { errorText } from "../src/_error_text.ts";
import { onAbort } from "../src/_abort.ts";
import { ProjectionError } from "./errors.ts";
import type { OffsetLease } from "./offset_store.ts";
import type { Cursor } from "./_cursor.ts";
import type { Progress } from "./_progress.ts";
import { RunLoop } from "./_run_loop.ts";
import type { LoopSettings } from "./_settings.ts";
import { releaseWithin, startRun } from "./_start.ts";

/** One run: started once the name is held and the offsets are loaded; done when it ended. */
export interface Run {
  readonly abort: AbortController;
  running: boolean;
  stopping: boolean;
  started: Promise<void>;
  done: Promise<void>;
}

/** How a projection begins a run on a lease it took. */
export interface RunStart<Tx, Offset> {
  /** Loads the stored offsets (bounded by the start's signal). */
  load(lease: OffsetLease<Tx>, signal: AbortSignal): Promise<Offset>;
  /** Puts the loaded offsets into the progress; the run's cursor over them. */
  begin(lease: OffsetLease<Tx>, offset: Offset): Cursor<Tx>;
}

/** Starts, stops and awaits the runs of one projection object. */
export class RunControl<Envelope, Tx, Offset> {
  readonly #settings: LoopSettings<Envelope, Tx>;
  readonly #progress: Progress;
  readonly #start: RunStart<Tx, Offset>;
  #run: Run | undefined;
  #previous: Promise<void> = Promise.resolve();

  constructor(
    settings: LoopSettings<Envelope, Tx>,
    progress: Progress,
    start: RunStart<Tx, Offset>,
  ) {
    this.#settings = settings;
    this.#progress = progress;
    this.#start = start;
  }

  /** The current run, also while it stops; `undefined` when none. */
  get current(): Run | undefined {
    return this.#run;
  }

  /** Whether a loop holds the name and processes events. */
  get running(): boolean {
    return this.#run?.running ?? false;
  }

  /** Starts a run unless one runs; resolves once it started (see `Projection.run`). */
  run(signal: AbortSignal | undefined): Promise<void> {
    const current = this.#run;
    if (current !== undefined && !current.stopping) return current.started;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const name = this.#settings.name;
    const run: Run = {
      abort: new AbortController(),
      running: false,
      stopping: false,
      started: Promise.resolve(),
      done: Promise.resolve(),
    };
    const stopListening = onAbort(signal, () => this.#abort(run, signal!.reason));
    let resolveStarted!: () => void;
    let rejectStarted!: (error: unknown) => void;
    run.started = new Promise((resolve, reject) => {
      resolveStarted = resolve;
      rejectStarted = reject;
    });
    run.started.catch(() => {});
    this.#run = run;
    run.done = this.#main(run, resolveStarted, rejectStarted)
      .catch((error) => {
        // Not expected (the loop reports its failures itself); keep stop() and run() working.
        rejectStarted(error);
        this.#progress.report(
          new ProjectionError(`Projection "${name}" failed: ${errorText(error)}`, {
            projection: name,
            reason: "stopped",
            cause: error,
          }),
        );
      })
      .finally(() => {
        stopListening();
        if (this.#run === run) this.#run = undefined;
      });
    this.#previous = run.done;
    return run.started;
  }

  /** Stops the current run at once; resolves when the loop has ended. */
  async stop(): Promise<void> {
    const run = this.#run;
    if (run !== undefined) {
      const name = this.#settings.name;
      this.#abort(
        run,
        new ProjectionError(`Projection "${name}" was stopped`, {
          projection: name,
          reason: "stopped",
        }),
      );
    }
    await this.#previous;
  }

  /** Resolves when the current loop ends (at once when none runs). */
  async whenStopped(): Promise<void> {
    await this.#previous;
  }

  #abort(run: Run, reason: unknown): void {
    run.stopping = true;
    run.abort.abort(reason);
  }

  async #main(
    run: Run,
    started: () => void,
    failed: (error: unknown) => void,
  ): Promise<void> {
    const signal = run.abort.signal;
    const { store, waitForName, startTimeoutMs, name } = this.#settings;
    const progress = this.#progress;
    await this.#previous;
    let start;
    try {
      start = await startRun(store, name, {
        wait: waitForName,
        signal,
        timeoutMs: startTimeoutMs,
      }, (lease, signal) => this.#start.load(lease, signal));
    } catch (error) {
      if (!signal.aborted && error instanceof ProjectionError) progress.lastError = error;
      failed(error);
      return;
    }
    const cursor = this.#start.begin(start.lease, start.offset);
    run.running = true;
    started();
    try {
      await new RunLoop(this.#settings, progress, cursor, signal).run();
    } finally {
      run.running = false;
      run.stopping = true;
      await releaseWithin(start.lease, startTimeoutMs).catch((error) => {
        progress.report(error as ProjectionError);
      });
      progress.endWaiters();
    }
  }
}
