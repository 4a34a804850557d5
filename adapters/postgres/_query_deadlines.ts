// The deadlines of one client's queries, watched by one timer instead of one per query: on
// Deno a timer set and cleared for every query cost about 4% of a sequential append's time in
// JavaScript (measured with --cpu-prof). A query therefore fails between its deadline and a
// quarter of the timeout later (at most one second later).

type Timer = ReturnType<typeof setInterval>;

interface Watched {
  readonly due: number;
  readonly expire: () => void;
}

/** Calls each watched query's `expire` once it has run for longer than `timeout` ms. */
export class QueryDeadlines {
  readonly #timeout: number;
  readonly #period: number;
  readonly #watched = new Set<Watched>();
  #timer: Timer | undefined;

  constructor(timeout: number) {
    this.#timeout = timeout;
    this.#period = Math.min(Math.max(timeout / 4, 5), 1000);
  }

  /** Watches a query that starts now; the returned function ends the watch. */
  watch(expire: () => void): () => void {
    const watched: Watched = { due: performance.now() + this.#timeout, expire };
    this.#watched.add(watched);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#check(), this.#period);
      unref(this.#timer);
    }
    return () => void this.#watched.delete(watched);
  }

  #check(): void {
    const now = performance.now();
    for (const watched of this.#watched) {
      if (watched.due > now) continue;
      this.#watched.delete(watched);
      watched.expire();
    }
    // Stops once idle, so an unused client keeps no timer; a busy one keeps its single timer.
    if (this.#watched.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}

// The running queries keep the process alive, not their watch (Node, Bun and Deno's Node
// timers have unref; a numeric id on Deno goes through Deno.unrefTimer; elsewhere nothing).
function unref(timer: Timer): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer) {
    (timer as { unref(): void }).unref();
    return;
  }
  const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
  if (typeof timer === "number") deno?.unrefTimer?.(timer);
}
