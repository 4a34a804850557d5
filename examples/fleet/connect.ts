// Opens the NATS connection of a host or server of the fleet examples: over WebSocket for a
// `ws://` or `wss://` URL (the runtime's WebSocket; on Node 20 run with
// --experimental-websocket), over TCP otherwise (`nats://host:port`, from
// @nats-io/transport-node, which Deno and Bun run too). It reconnects without limit, so a
// restarted nats-server is picked up again. Credentials come from NATS_TOKEN, or NATS_USER and
// NATS_PASS, in the environment.

import process from "node:process";
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";

/** Connects to `url` under the connection name `name`. */
export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  const env = process.env;
  const options = {
    servers: url,
    name,
    maxReconnectAttempts: -1,
    ...(env.NATS_TOKEN ? { token: env.NATS_TOKEN } : {}),
    ...(env.NATS_USER ? { user: env.NATS_USER, pass: env.NATS_PASS ?? "" } : {}),
  };
  if (/^wss?:\/\//i.test(url)) return await wsconnect(options);
  // Loaded only for TCP, so a WebSocket-only program never pulls in node:net.
  const { connect } = await import("@nats-io/transport-node");
  return await connect(options);
}
