/**
 * The test kit: conformance suites that every `EventLog`, `SnapshotStore` and `KeyStore`
 * runs (built on `node:test`, so they run under `deno test`, `bun test` and `node --test`),
 * and Given/When/Then for command handlers.
 *
 * @example Test a command handler
 * ```ts
 * import { emitAndReply } from "@eventsourced/eventsourced";
 * import { given } from "@eventsourced/eventsourced/testing";
 *
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (s: number, by: number) => s + by };
 * given(counter, [1, 2]).when({ handleCommand: () => emitAndReply(3, (s: number) => s) })
 *   .then({ events: [3], reply: 6 });
 * ```
 *
 * @module
 */

export type { EventLogSuiteOptions } from "./event_log_conformance.ts";
export type { SnapshotStoreSuiteOptions } from "./snapshot_store_conformance.ts";
export type { StoreAdminSuiteOptions } from "./store_admin_conformance.ts";
export type { KeyStoreSuiteOptions } from "./key_store_conformance.ts";
export type { Expected, Given, Outcome } from "./given_when_then.ts";

export { testEventLog } from "./event_log_conformance.ts";
export { testSnapshotStore } from "./snapshot_store_conformance.ts";
export { testStoreAdmin } from "./store_admin_conformance.ts";
export { testKeyStore } from "./key_store_conformance.ts";
export { given } from "./given_when_then.ts";
export { collect, take, uniqueTypeName, within } from "./_collect.ts";
