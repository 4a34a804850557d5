// Package-private access to a NatsEventLog's connection, stream and publish path, for the NATS
// store admin only: handed over once from the class's static block, so an import publishes
// exactly as persist does (the same subject, checks and acknowledgement) and keeps the log's
// cache of entity heads right, while the public API stays as it is.

import type { MsgHdrs, NatsConnection } from "@nats-io/nats-core";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { EntityHead } from "./_read_plan.ts";
import type { StreamAdmin } from "./_stream_admin.ts";

/** What the store admin uses of a NatsEventLog. */
export interface NatsLogInternals {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly stream: string;
  readonly prefix: string;
  readonly streamAdmin: StreamAdmin;
  /** The subject of an entity. */
  subject(typeName: string, id: string): string;
  /** The entity's head from the stream (and remembered), `null` when it has no events. */
  head(typeName: string, id: string): Promise<EntityHead | null>;
  /** Publishes as persist does; resolves to the stream sequence. */
  publish(subject: string, body: Uint8Array, headers: MsgHdrs): Promise<number>;
  /** The head the log remembers of a subject (from its last persist or read), if any. */
  remembered(subject: string): EntityHead | undefined;
  /** Remembers an entity's head after a publish, or forgets it (`undefined`) after a failure. */
  remember(subject: string, head: EntityHead | undefined): void;
  /** Throws a too-large StorageError when a message of `bytes` exceeds the server's payload. */
  assertFits(bytes: number, what: string): void;
}

let read: ((log: object) => NatsLogInternals | undefined) | undefined;

/** Called once by `NatsEventLog`'s static block. */
export function exposeNatsLog(reader: (log: object) => NatsLogInternals | undefined): void {
  read = reader;
}

/** The internals of `log`, or `undefined` when it is not a `NatsEventLog`. */
export function natsLogInternals(log: object): NatsLogInternals | undefined {
  return read?.(log);
}
