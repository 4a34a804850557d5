// Reserving a connection of a postgres.js pool so that it is handed over however the pool was
// opened, and within a bound. postgres.js (3.4) opens a closed connection for a reservation
// that finds no open one, and on a client with `fetch_types: false` it then drops the
// reservation after the connection's startup: `reserve()` as the first call of a fresh pool
// never resolves, and the connection stays unused. A reservation that waits in the pool's
// queue is handed the next connection that finishes a query; so a query runs first (leaving an
// open connection that the reservation takes at once), and a reservation that still waits is
// nudged with another small query.

import type postgres from "postgres";
import { StorageError } from "../../src/errors.ts";
import { onAbort } from "../../src/_abort.ts";
import { describeSql } from "./_client.ts";

// How often a waiting reservation is nudged.
const NUDGE_EVERY_MS = 200;

/**
 * Runs `start()` (a query or a reservation) and rejects with a StorageError (reason
 * `timeout`) after `timeout` ms, or with the signal's reason when it aborts; `onLate` gets the
 * result that arrives after giving up (to release it).
 */
export function withTimeout<T>(
  start: () => Promise<T>,
  timeout: number,
  what: string,
  signal?: AbortSignal,
  onLate: (value: T) => void = () => {},
): Promise<T> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = () => {
      settled = true;
      clearTimeout(timer);
      removeAbort();
    };
    const timer = setTimeout(() => {
      finish();
      reject(new StorageError(`${what}: no answer within ${timeout} ms`, { reason: "timeout" }));
    }, timeout);
    const removeAbort = onAbort(signal, () => {
      finish();
      reject(signal!.reason);
    });
    start().then(
      (value) => {
        if (settled) return onLate(value);
        finish();
        resolve(value);
      },
      (error) => {
        if (settled) return;
        finish();
        reject(error);
      },
    );
  });
}

/**
 * Reserves a connection of `sql` (see above), failing with reason `timeout` after `timeout`
 * ms or with the signal's reason; a reservation that arrives later is released.
 */
export async function reserveConnection(
  sql: postgres.Sql,
  timeout: number,
  signal?: AbortSignal,
): Promise<postgres.ReservedSql> {
  const what = `Cannot reserve a connection of PostgreSQL at ${describeSql(sql)}`;
  const started = performance.now();
  await withTimeout(() => sql.unsafe("select 1").then(() => {}), timeout, what, signal);
  const left = Math.max(1, timeout - (performance.now() - started));
  let nudge: ReturnType<typeof setInterval> | undefined;
  try {
    return await withTimeout(
      () => {
        const reserving = sql.reserve();
        nudge = setInterval(() => {
          sql.unsafe("select 1").catch(() => {});
        }, NUDGE_EVERY_MS);
        return reserving;
      },
      left,
      what,
      signal,
      (late) => late.release(),
    );
  } finally {
    clearInterval(nudge);
  }
}
