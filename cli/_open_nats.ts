import type { NatsConnection } from "@nats-io/nats-core";
import type { StoreAdmin } from "../admin/store_admin.ts";
import { NatsStoreAdmin } from "../adapters/nats/nats_store_admin.ts";
import { StorageError } from "../src/errors.ts";
import { defined } from "./_defined.ts";
import type { StoreLocation } from "./_store_url.ts";
import { unreachable, within } from "./_within.ts";
import type { OpenStoreOptions } from "./open_store_options.ts";

type NatsLocation = Extract<StoreLocation, { kind: "nats" }>;

/**
 * A NATS store over WebSocket (`ws://`, `wss://`) or TCP (`nats://`, through
 * `@nats-io/transport-node`, loaded only then): the server must answer within `timeout` ms.
 */
export async function openNatsStore(
  location: NatsLocation,
  options: OpenStoreOptions,
  timeout: number,
): Promise<{ admin: StoreAdmin; close(): Promise<void> }> {
  const names = defined({
    stream: options.stream,
    subjectPrefix: options.subjectPrefix,
    snapshotBucket: options.snapshotBucket,
    offsetBucket: options.offsetBucket,
  });
  const credentials = defined({ user: location.user, pass: location.pass, token: location.token });
  const what = `Cannot reach NATS at ${location.address}`;
  try {
    if (!location.server.startsWith("nats:")) {
      const admin = await within(
        NatsStoreAdmin.connect({
          servers: location.server,
          ...credentials,
          ...names,
          connectionOptions: { timeout },
        }),
        timeout,
        `${what}: no answer within ${timeout} ms`,
        (late) => late.close(),
      );
      return { admin, close: () => admin.close() };
    }
    const nc = await within(
      connectTcp(location, credentials, timeout),
      timeout,
      `${what}: no answer within ${timeout} ms`,
      (late) => late.close(),
    );
    try {
      const admin = new NatsStoreAdmin(nc, names);
      return { admin, close: () => admin.close().finally(() => nc.close()) };
    } catch (error) {
      await nc.close();
      throw error;
    }
  } catch (error) {
    throw unreachable(what, location.address, error);
  }
}

async function connectTcp(
  location: NatsLocation,
  credentials: { user?: string; pass?: string; token?: string },
  timeout: number,
): Promise<NatsConnection> {
  let connect: typeof import("@nats-io/transport-node").connect;
  try {
    ({ connect } = await import("@nats-io/transport-node"));
  } catch (cause) {
    throw new Error(
      "Cannot open nats:// (TCP): @nats-io/transport-node did not load (install it, or use " +
        `ws://): ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
  try {
    return await connect({
      servers: location.address,
      ...credentials,
      timeout,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message || cause.name : String(cause);
    throw new StorageError(`Cannot reach NATS at ${location.address}: ${detail}`, {
      reason: "unavailable",
      cause,
    });
  }
}
