/**
 * Looking after a store: the {@linkcode StoreAdmin} each backend module exports (schema, entity
 * types and ids, snapshots, projection offsets, writing events exactly as another store holds
 * them), on which the command-line tool and copying between backends are built.
 *
 * @example Is a store set up?
 * ```ts ignore
 * import type { StoreAdmin } from "@eventsourced/eventsourced/admin";
 *
 * async function ready(admin: StoreAdmin): Promise<boolean> {
 *   const { installed, latest } = await admin.schema();
 *   return installed === latest;
 * }
 * ```
 *
 * @module
 */

export type {
  AdminReadOptions,
  EntityTypeSummary,
  ProjectionOffset,
  ResetProjectionOptions,
  SchemaState,
  StoreAdmin,
  StoredSnapshot,
} from "./store_admin.ts";
export type { MemoryStoreAdminOptions } from "./memory_store_admin.ts";

export { memoryStoreAdmin } from "./memory_store_admin.ts";

// Copying a store and verifying a log (admin/copy_store.ts, admin/verify_log.ts).
export type { CopyProgress, CopyReport, CopyStoreOptions, CopyVerification } from "./copy_store.ts";
export type {
  EventDecoder,
  LogProblem,
  VerifyLogOptions,
  VerifyLogProgress,
  VerifyLogReport,
} from "./verify_log.ts";
export { copyStore } from "./copy_store.ts";
export { verifyLog } from "./verify_log.ts";
