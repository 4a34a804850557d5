// What the shared SQL code needs from a driver: parameterised queries returning rows as
// arrays, a script runner for setup, and optionally LISTEN. The PostgreSQL and PGlite adapters
// each wrap their driver in this shape.

/** A query parameter: what both drivers serialise for the statements in `statements.ts`. */
export type SqlParam =
  | string
  | number
  | boolean
  | null
  | Uint8Array
  | readonly (string | null)[]
  | readonly number[]
  | readonly boolean[];

/** A driver, seen by the shared code. */
export interface SqlClient {
  /** Runs one parameterised statement; rows as arrays. `signal` cancels it where possible. */
  query(text: string, params: readonly SqlParam[], signal?: AbortSignal): Promise<unknown[][]>;
  /** Runs a parameterless script (several statements allowed). */
  exec(script: string): Promise<void>;
  /**
   * Subscribes to a notification channel; resolves to the unsubscribe function. Absent when
   * the driver has no notifications worth listening to (polling and in-process wake-ups only).
   */
  listen?(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** Describes where the client connects, for error messages (no credentials). */
  readonly description: string;
}

/** Reads a bigint column that a driver returns as string, bigint or number. */
export function toNumber(value: unknown): number {
  return typeof value === "number" ? value : Number(value);
}

/** A plain Uint8Array view of a driver's bytes (Node's Buffer is shown as a subclass). */
export function toBytes(value: unknown): Uint8Array {
  const bytes = value as Uint8Array;
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
