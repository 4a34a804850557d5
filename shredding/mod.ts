/**
 * Crypto-shredding: personal data encrypted with a per-entity key, forgotten for good when the
 * key is deleted.
 *
 * @module
 */
export {};
export { MemoryKeyStore } from "./memory_key_store.ts";
