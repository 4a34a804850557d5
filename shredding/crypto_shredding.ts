/**
 * The facade of crypto-shredding: the event log, snapshot store and forget of one key store.
 *
 * @module
 */

import type { CallOptions, EventLog } from "../src/event_log.ts";
import type { SnapshotStore } from "../src/snapshot_store.ts";
import { assertId, assertTypeName, quote } from "../src/_validate.ts";
import { importMasterKey, KeyRing } from "./_key_ring.ts";
import { shreddingEventLog } from "./_shredding_event_log.ts";
import { shreddingSnapshotStore } from "./_shredding_snapshot_store.ts";
import type { KeyStore } from "./key_store.ts";
import { shreddingBinarize } from "./shredding_binarize.ts";

/**
 * Options of {@linkcode cryptoShredding}.
 *
 * @example Keys wrapped by a master key, cached for 5 s
 * ```ts
 * import { type CryptoShreddingOptions, MemoryKeyStore } from "@eventsourced/eventsourced/shredding";
 *
 * const keyStore = new MemoryKeyStore();
 * const masterKey = crypto.getRandomValues(new Uint8Array(32)); // keep it out of the database
 * const options: CryptoShreddingOptions = { keyStore, masterKey, keyCacheMs: 5_000 };
 * ```
 */
export interface CryptoShreddingOptions {
  /** Where the entities' keys are kept. */
  keyStore: KeyStore;
  /**
   * A key that wraps (AES-KW) every entity key before it is stored, so that a copy of the key
   * store alone decrypts nothing: 16, 24 or 32 raw bytes, or a `CryptoKey` for `AES-KW` with
   * the usages `wrapKey` and `unwrapKey`. Default: keys are stored raw.
   */
  masterKey?: CryptoKey | Uint8Array | undefined;
  /**
   * How long, in milliseconds, a key read from the store is kept in this process (at most
   * 10 000 keys) to decrypt with; 0: not kept. Default 30 000. A forget in another process is
   * seen by this process's reads once the cached key expires. Writes ask the store every time,
   * so they never encrypt with a key another process has forgotten.
   */
  keyCacheMs?: number | undefined;
}

/**
 * Crypto-shredding tied to one key store; made by {@linkcode cryptoShredding}.
 *
 * @example Forget an entity
 * ```ts
 * import { cryptoShredding, MemoryKeyStore } from "@eventsourced/eventsourced/shredding";
 * import assert from "node:assert/strict";
 *
 * const shredding = cryptoShredding({ keyStore: new MemoryKeyStore() });
 * assert.equal(await shredding.forget("customer", "c-1"), false); // it had no key yet
 * ```
 */
export interface CryptoShredding {
  /**
   * `log` with the personal parts of `shreddingBinarize` envelopes encrypted on persist (the
   * entity's key created on its first such event) and decrypted on read, or marked forgotten
   * when the entity's key is gone or is a newer one. A key store error fails the call or the
   * read; it never reads as forgotten. Other bytes, and every other method, pass unchanged.
   */
  eventLog(log: EventLog): EventLog;
  /**
   * `store` with the personal parts of states encrypted on save and decrypted on load. A
   * whole state forgotten loads as the codec's `forgottenState`, or fails with an error
   * naming the entity when the codec has none.
   */
  snapshotStore(store: SnapshotStore): SnapshotStore;
  /** The codec wrapper, {@linkcode shreddingBinarize}. */
  binarize: typeof shreddingBinarize;
  /**
   * Deletes the entity's key, in the key store and this process's cache: its encrypted data
   * reads as forgotten from then on, everywhere. Its later events get a new key and read as
   * usual. Resolves to whether the entity had a key.
   */
  forget(typeName: string, id: string, options?: CallOptions): Promise<boolean>;
}

/**
 * Crypto-shredding with the keys of `options.keyStore`: wrap the entity's codec with
 * `binarize` to say what is personal, and its event log and snapshot store with `eventLog` and
 * `snapshotStore` to encrypt that with a per-entity key (AES-GCM, 256 bits, Web Crypto);
 * `forget` deletes the key, so that those data read as forgotten for good while the log stays
 * intact.
 *
 * @example Forget a customer's email
 * ```ts
 * import { emit, jsonBinarize, MemoryEventLog, reply, spawn } from "@eventsourced/eventsourced";
 * import {
 *   cryptoShredding,
 *   FORGOTTEN,
 *   MemoryKeyStore,
 * } from "@eventsourced/eventsourced/shredding";
 * import assert from "node:assert/strict";
 *
 * type Event = { type: "registered"; email: string; plan: string };
 * const shredding = cryptoShredding({ keyStore: new MemoryKeyStore() });
 * const eventLog = shredding.eventLog(new MemoryEventLog());
 * const binarize = shredding.binarize(jsonBinarize<Event, Event | null>(), {
 *   events: ["email"],
 *   states: ["email"],
 * });
 * const customer = {
 *   typeName: "customer",
 *   initialState: null as Event | null,
 *   handleEvent: (_state: Event | null, event: Event) => event,
 * };
 * const register = {
 *   handleCommand: () => emit<Event>({ type: "registered", email: "a@example.com", plan: "pro" }),
 * };
 * const ref = await spawn(customer, "c-1", { eventLog, binarize });
 * await ref.handleCommand(register);
 * await ref.stop();
 *
 * await shredding.forget("customer", "c-1");
 * const again = await spawn(customer, "c-1", { eventLog, binarize });
 * const state = await again.handleCommand({
 *   handleCommand: (_id: string, state: Event | null) => reply(state),
 * });
 * assert.deepEqual(state, { ok: true, value: { type: "registered", plan: "pro", email: FORGOTTEN } });
 * await again.stop();
 * ```
 */
export function cryptoShredding(options: CryptoShreddingOptions): CryptoShredding {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("cryptoShredding: options must be an object with a `keyStore`");
  }
  for (const key of Object.keys(options)) {
    if (key !== "keyStore" && key !== "masterKey" && key !== "keyCacheMs") {
      throw new TypeError(`cryptoShredding: unknown option ${quote(key)}`);
    }
  }
  const { keyStore, masterKey, keyCacheMs = 30_000 } = options;
  for (const method of ["get", "create", "delete"] as const) {
    if (typeof (keyStore as Partial<KeyStore> | undefined)?.[method] !== "function") {
      throw new TypeError(`cryptoShredding: \`keyStore\` must be a KeyStore (it lacks ${method})`);
    }
  }
  if (typeof keyCacheMs !== "number" || !Number.isSafeInteger(keyCacheMs) || keyCacheMs < 0) {
    throw new RangeError(
      `cryptoShredding: \`keyCacheMs\` must be an integer of 0 or more, got ${quote(keyCacheMs)}`,
    );
  }
  const master = masterKey === undefined ? undefined : readMasterKey(masterKey);
  // An unused promise must not reject unhandled; every use awaits it again.
  master?.catch(() => {});
  const keys = new KeyRing(keyStore, master, keyCacheMs);
  return {
    eventLog: (log) => shreddingEventLog(assertPort(log, "eventLog", LOG_METHODS), keys),
    snapshotStore: (store) =>
      shreddingSnapshotStore(assertPort(store, "snapshotStore", STORE_METHODS), keys),
    binarize: shreddingBinarize,
    async forget(typeName, id, callOptions) {
      assertTypeName(typeName);
      assertId(id);
      if (callOptions?.signal?.aborted) throw callOptions.signal.reason;
      return await keys.forget(typeName, id, callOptions?.signal);
    },
  };
}

const LOG_METHODS = ["persist", "lastSeqNo", "eventsById", "eventsByType"];
const STORE_METHODS = ["save", "load"];

function assertPort<Port>(port: Port, name: string, methods: readonly string[]): Port {
  const missing = methods.filter((m) =>
    typeof (port as Record<string, unknown> | null)?.[m] !== "function"
  );
  if (missing.length > 0) {
    throw new TypeError(`cryptoShredding.${name}: the argument lacks ${missing.join(", ")}`);
  }
  return port;
}

function readMasterKey(masterKey: CryptoKey | Uint8Array): Promise<CryptoKey> {
  if (masterKey instanceof Uint8Array) {
    if (![16, 24, 32].includes(masterKey.length)) {
      throw new RangeError(
        `cryptoShredding: \`masterKey\` must have 16, 24 or 32 bytes, got ${masterKey.length}`,
      );
    }
  } else {
    const algorithm = (masterKey as CryptoKey | null)?.algorithm?.name;
    const usages = (masterKey as CryptoKey | null)?.usages ?? [];
    if (algorithm !== "AES-KW" || !usages.includes("wrapKey") || !usages.includes("unwrapKey")) {
      throw new TypeError(
        "cryptoShredding: `masterKey` must be 16, 24 or 32 bytes or an AES-KW CryptoKey with " +
          "the usages wrapKey and unwrapKey",
      );
    }
  }
  return importMasterKey(masterKey);
}
