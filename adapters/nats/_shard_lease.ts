// One shard's lease: a key in the lease bucket (max_age = leaseTtl) that a host creates to own
// the shard and updates with its last revision to keep it. The server expires a key not
// updated for leaseTtl; the holder must have stopped serving before that, by its own clock:
// the lease is valid until the moment the last successful create/update was SENT, plus
// leaseTtl, less a margin, on the monotonic clock (the server's stamp on the key is later
// than the send, so the server expires it later still). A paused holder wakes up past that
// moment and finds the lease invalid before it serves anything.

import type { KV } from "@nats-io/kv";
import { apiCode, WRONG_LAST_SEQUENCE } from "./_storage_errors.ts";

/** How early a holder stops trusting its lease: a fifth of the TTL, at least 200 ms. */
export function leaseMargin(leaseTtl: number): number {
  return Math.max(leaseTtl / 5, 200);
}

/** Why a lease ended without being released. */
export type LostReason = "revision" | "expired";

/** Whether `error` is JetStream refusing a write because the key changed meanwhile. */
export function isWrongRevision(error: unknown): boolean {
  const code = apiCode(error);
  return code === WRONG_LAST_SEQUENCE || code === 10164 /* wrong last sequence unknown */;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** A held lease on one key; made by {@linkcode campaign}. */
export class ShardLease {
  readonly key: string;
  readonly #kv: KV;
  readonly #value: Uint8Array;
  readonly #ttl: number;
  readonly #margin: number;
  readonly #onLost: (reason: LostReason) => void;
  #revision: number;
  #validUntil: number;
  #ended = false;
  #renewal: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    kv: KV,
    key: string,
    value: Uint8Array,
    ttl: number,
    revision: number,
    sentAt: number,
    onLost: (reason: LostReason) => void,
  ) {
    this.key = key;
    this.#kv = kv;
    this.#value = value;
    this.#ttl = ttl;
    this.#margin = leaseMargin(ttl);
    this.#onLost = onLost;
    this.#revision = revision;
    this.#validUntil = sentAt + ttl - this.#margin;
    this.#arm();
  }

  /** The revision of the last successful create or update. */
  get revision(): number {
    return this.#revision;
  }

  /** Whether the lease is held and, by the monotonic clock, still valid. */
  get valid(): boolean {
    if (this.#ended) return false;
    if (performance.now() < this.#validUntil) return true;
    this.#lose("expired");
    return false;
  }

  /**
   * Updates the key with the last revision. A refused update (the key changed or expired
   * meanwhile) loses the lease at once; any other failure is returned to the caller and the
   * lease stays valid until its time runs out.
   */
  renew(): Promise<void> {
    if (this.#ended || this.#renewal !== undefined || !this.valid) return Promise.resolve();
    const renewal = this.#update().finally(() => (this.#renewal = undefined));
    this.#renewal = renewal;
    return renewal;
  }

  async #update(): Promise<void> {
    const sentAt = performance.now();
    try {
      // The revision is kept even when the lease ended meanwhile: a release deletes the key
      // only at the revision it holds.
      this.#revision = await this.#kv.update(
        this.key,
        this.#value,
        this.#revision,
        Math.max(200, Math.floor(this.#ttl / 3)),
      );
      if (this.#ended) return;
      this.#validUntil = sentAt + this.#ttl - this.#margin;
      this.#arm();
    } catch (error) {
      if (isWrongRevision(error)) {
        this.#lose("revision");
        return;
      }
      throw error;
    }
  }

  /** Marks the lease lost (the fence found another writer); nothing is sent. */
  lose(): void {
    this.#lose("revision");
  }

  /**
   * Ends the lease and deletes the key if it still holds this lease's revision, so another
   * host can take the shard at once. Errors are returned; the key then expires by itself.
   */
  async release(): Promise<void> {
    if (this.#ended) return;
    this.#end();
    await this.#renewal?.catch(() => {});
    try {
      await this.#kv.delete(this.key, { previousSeq: this.#revision });
    } catch (error) {
      if (!isWrongRevision(error)) throw error;
      // A renewal whose answer was lost may have moved the revision on: a key that still
      // holds this lease's value is still ours to delete (no other host writes that value).
      const entry = await this.#kv.get(this.key);
      if (entry?.operation !== "PUT" || !sameBytes(entry.value, this.#value)) return;
      await this.#kv.delete(this.key, { previousSeq: entry.revision }).catch(() => {});
    }
  }

  /** Ends the lease without touching the key: it expires by itself. */
  abandon(): void {
    this.#end();
  }

  #end(): void {
    this.#ended = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  // The lease is invalid from now on; the owner hears of it in a microtask, since the check
  // that noticed may run inside a command the owner's reaction would stop.
  #lose(reason: LostReason): void {
    if (this.#ended) return;
    this.#end();
    queueMicrotask(() => this.#onLost(reason));
  }

  // A timer at the end of validity drops the shard even when no command comes to notice.
  #arm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.valid;
    }, Math.max(0, this.#validUntil - performance.now()) + 1);
  }
}

/**
 * Tries to take the lease on `key`: `kv.create` succeeds only when the key is absent (never
 * written, deleted, or expired). Resolves to the lease, or `undefined` when another host holds
 * the key; other failures reject.
 */
export async function campaign(
  kv: KV,
  key: string,
  value: Uint8Array,
  ttl: number,
  onLost: (reason: LostReason) => void,
): Promise<ShardLease | undefined> {
  const sentAt = performance.now();
  let revision: number;
  try {
    revision = await kv.create(key, value);
  } catch (error) {
    if (isWrongRevision(error)) return undefined;
    throw error;
  }
  return new ShardLease(kv, key, value, ttl, revision, sentAt, onLost);
}
