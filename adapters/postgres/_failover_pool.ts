// The client that `connect()` opens: a postgres.js pool that is replaced by a fresh one when
// a connection is lost. postgres.js reconnects a pool's connections by itself, but after a
// backend was terminated under load some of them stay wedged (queries written, never
// answered) until the query timeout, and the driver's reconnect backoff grows with every lost
// connection of the pool. A fresh pool has none of that state: new queries go to it at once,
// while the old pool finishes what it still can and is then ended, failing what is stuck.

import type postgres from "postgres";
import { ClientSockets } from "./_client_sockets.ts";

// The keys under which a failover client shows the query layer which pool a query goes to
// and takes the report that one of that pool's connections was lost.
const GENERATION = Symbol("eventsourced.postgres.poolGeneration");
const CONNECTION_LOST = Symbol("eventsourced.postgres.connectionLost");
const POOL_ENDED = Symbol("eventsourced.postgres.poolEnded");

// Seconds a replaced pool has to finish its in-flight queries before it is ended by force.
const RETIRE_SECONDS = 1;

/** Opens one pool whose sockets come from `sockets`. */
export type PoolFactory = (sockets: ClientSockets) => postgres.Sql;

interface Pool {
  readonly sql: postgres.Sql;
  readonly sockets: ClientSockets;
  readonly generation: number;
  /** Called once the pool has ended: what is still queued in it will never run. */
  readonly onEnded: Set<() => void>;
}

/**
 * A postgres.js client (same calls) over a pool that `connectionLost()` replaces; `end()` ends
 * every pool it opened and destroys their sockets, so nothing of it outlives the call.
 */
export function failoverClient(open: PoolFactory): postgres.Sql {
  let generation = 0;
  const pools = new Map<number, Pool>();
  const openPool = (): Pool => {
    const sockets = new ClientSockets();
    const pool = { sql: open(sockets), sockets, generation, onEnded: new Set<() => void>() };
    pools.set(generation, pool);
    return pool;
  };
  let current = openPool();
  const retiring = new Set<Promise<void>>();
  let ended: Promise<void> | undefined;

  // postgres.js ends a pool gracefully without failing the queries still queued in it (they
  // wait for ever): the query layer hears of the end through `onEnded` and fails them.
  const retire = (pool: Pool, timeout: number): Promise<void> =>
    pool.sql.end({ timeout }).catch(() => {}).finally(() => {
      pool.sockets.close();
      pools.delete(pool.generation);
      for (const listener of pool.onEnded) listener();
      pool.onEnded.clear();
    });

  const poolEnded = (of: number, listener: () => void): () => void => {
    const pool = pools.get(of);
    if (pool === undefined) return noop;
    pool.onEnded.add(listener);
    return () => void pool.onEnded.delete(listener);
  };

  // Only a failure of the current pool replaces it: the burst of failures of one outage, and
  // the late ones of a retired pool, replace it once.
  const connectionLost = (failed: number): void => {
    if (ended !== undefined || failed !== generation) return;
    const old = current;
    generation++;
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
      if (key === GENERATION) return generation;
      if (key === CONNECTION_LOST) return connectionLost;
      if (key === POOL_ENDED) return poolEnded;
      if (key === "end" || key === "close") return end;
      return (current.sql as unknown as Record<PropertyKey, unknown>)[key];
    },
  });
}

/** Which pool of a failover client a query sent now goes to (0 for any other client). */
export function poolGeneration(sql: postgres.Sql): number {
  const generation = (sql as unknown as Record<PropertyKey, unknown>)[GENERATION];
  return typeof generation === "number" ? generation : 0;
}

/**
 * Tells a failover client (if `sql` is one) that a connection of its pool `generation` was
 * lost; it moves to a fresh pool unless it already left that one.
 */
export function reportConnectionLost(sql: postgres.Sql, generation: number): void {
  const report = (sql as unknown as Record<PropertyKey, unknown>)[CONNECTION_LOST];
  if (typeof report === "function") report(generation);
}

/**
 * Calls `listener` once the pool `generation` of a failover client has ended; returns the
 * remover (a no-op for any other client, or a pool that has ended already).
 */
export function onPoolEnded(
  sql: postgres.Sql,
  generation: number,
  listener: () => void,
): () => void {
  const register = (sql as unknown as Record<PropertyKey, unknown>)[POOL_ENDED];
  return typeof register === "function" ? register(generation, listener) : noop;
}

function noop(): void {}
