/**
 * Crypto-shredding: personal data encrypted with a per-entity key, forgotten for good when the
 * key is deleted. {@linkcode shreddingBinarize} says what is personal in events and states;
 * {@linkcode cryptoShredding} encrypts it in an event log and snapshot store with keys of a
 * {@linkcode KeyStore}, and forgets an entity by deleting its key. Forgotten data read as
 * {@linkcode FORGOTTEN_EVENT} (whole events) or {@linkcode FORGOTTEN} (fields).
 *
 * @example Forget an entity, then read its event
 * ```ts
 * import { jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import {
 *   cryptoShredding,
 *   isForgotten,
 *   MemoryKeyStore,
 * } from "@eventsourced/eventsourced/shredding";
 * import assert from "node:assert/strict";
 *
 * const shredding = cryptoShredding({ keyStore: new MemoryKeyStore() });
 * const log = shredding.eventLog(new MemoryEventLog());
 * const binarize = shredding.binarize(jsonBinarize<{ note: string }, null>(), {
 *   events: "whole",
 *   states: "none",
 * });
 * await log.persist("patient", "p-1", null, [binarize.eventToBytes({ note: "allergic" })]);
 * await shredding.forget("patient", "p-1");
 * for await (const event of log.eventsById("patient", "p-1", 1)) {
 *   assert.ok(isForgotten(binarize.eventFromBytes(event.bytes, event.version)));
 * }
 * ```
 *
 * @module
 */

export type { KeyStore, StoredKey } from "./key_store.ts";
export { MemoryKeyStore } from "./memory_key_store.ts";
export { FORGOTTEN, Forgotten, FORGOTTEN_EVENT, isForgotten } from "./forgotten.ts";
export {
  type PersonalData,
  shreddingBinarize,
  type ShreddingBinarizeOptions,
} from "./shredding_binarize.ts";
export {
  type CryptoShredding,
  cryptoShredding,
  type CryptoShreddingOptions,
} from "./crypto_shredding.ts";
