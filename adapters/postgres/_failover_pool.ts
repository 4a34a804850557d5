// The client that `connect()` opens: a postgres.js pool that is replaced by a fresh one when
// a connection is lost. postgres.js reconnects a pool's connections by itself, but after a
// backend was terminated under load some of them stay wedged (queries written, never
// answered) until the query timeout, and the driver's reconnect backoff grows with every lost
// connection of the pool. A fresh pool has none of that state: new queries go to it at once,
// while the old pool finishes what it still can and is then ended, failing what is stuck.

import type postgres from "postgres";
import { ClientSockets } from "./_client_sockets.ts";

/** The key under which a failover client exposes `connectionLost` to the query layer. */
export const CONNECTION_LOST = Symbol("eventsourced.postgres.connectionLost");

// Seconds a replaced pool has to finish its in-flight queries before it is ended by force.
const RETIRE_SECONDS = 1;
// A burst of failures from one outage replaces the pool once.
const MIN_FAILOVER_INTERVAL_MS = 1_000;

/** Opens one pool whose sockets come from `sockets`. */
export type PoolFactory = (sockets: ClientSockets) => postgres.Sql;

interface Pool {
  readonly sql: postgres.Sql;
  readonly sockets: ClientSockets;
}

/**
 * A postgres.js client (same calls) over a pool that `connectionLost()` replaces; `end()` ends
 * every pool it opened and destroys their sockets, so nothing of it outlives the call.
 */
export function failoverClient(open: PoolFactory): postgres.Sql {
  const openPool = (): Pool => {
    const sockets = new ClientSockets();
    return { sql: open(sockets), sockets };
  };
  let current = openPool();
  const retiring = new Set<Promise<void>>();
  let lastFailover = performance.now();
  let ended: Promise<void> | undefined;

  const retire = (pool: Pool, timeout: number): Promise<void> =>
    pool.sql.end({ timeout }).catch(() => {}).finally(() => pool.sockets.close());

  const connectionLost = (): void => {
    if (ended !== undefined) return;
    const now = performance.now();
    if (now - lastFailover < MIN_FAILOVER_INTERVAL_MS) return;
    lastFailover = now;
    const old = current;
    current = openPool();
    const done = retire(old, RETIRE_SECONDS);
    retiring.add(done);
    void done.finally(() => retiring.delete(done));
  };

  const end = (options: { timeout?: number | null } = {}): Promise<void> =>
    ended ??= (async () => {
      await Promise.all([retire(current, options.timeout ?? 5), ...retiring]);
    })();

  const target = (() => {}) as unknown as postgres.Sql;
  return new Proxy(target, {
    apply: (_target, _this, args: unknown[]) =>
      (current.sql as unknown as (...args: unknown[]) => unknown)(...args),
    get: (_target, key) => {
      if (key === CONNECTION_LOST) return connectionLost;
      if (key === "end" || key === "close") return end;
      return (current.sql as unknown as Record<PropertyKey, unknown>)[key];
    },
  });
}

/** Tells a failover client (if `sql` is one) that one of its connections was lost. */
export function reportConnectionLost(sql: postgres.Sql): void {
  const report = (sql as unknown as Record<PropertyKey, unknown>)[CONNECTION_LOST];
  if (typeof report === "function") report();
}
