// Reads a stream in batches: up to `size` items, or fewer when `ms` pass after the first item
// of the batch; a read that loses the race against the deadline is kept for the next batch.

const TIMEOUT = Symbol("timeout");

/** Batches of a stream; `next` resolves to `null` once the stream has ended. */
export class BatchReader<T> {
  readonly #reader: ReadableStreamDefaultReader<T>;
  #pending: Promise<ReadableStreamReadResult<T>> | undefined;
  #ended = false;

  constructor(stream: ReadableStream<T>) {
    this.#reader = stream.getReader();
  }

  #read(): Promise<ReadableStreamReadResult<T>> {
    return this.#pending ??= this.#reader.read();
  }

  /** The next batch; rejects with `stopped`'s reason when that settles first. */
  async next(size: number, ms: number, stopped: Promise<never>): Promise<T[] | null> {
    if (this.#ended) return null;
    const first = await Promise.race([this.#read(), stopped]);
    this.#pending = undefined;
    if (first.done) {
      this.#ended = true;
      return null;
    }
    const batch = [first.value];
    if (size <= 1) return batch;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<typeof TIMEOUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMEOUT), ms);
    });
    try {
      while (batch.length < size) {
        const result = await Promise.race([this.#read(), deadline, stopped]);
        if (result === TIMEOUT) break;
        this.#pending = undefined;
        if (result.done) {
          this.#ended = true;
          break;
        }
        batch.push(result.value);
      }
    } finally {
      clearTimeout(timer);
    }
    return batch;
  }

  /** Cancels the stream, releasing what the event log holds for it. */
  async cancel(reason?: unknown): Promise<void> {
    await this.#reader.cancel(reason).catch(() => {});
  }
}
