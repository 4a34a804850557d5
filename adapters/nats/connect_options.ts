/**
 * Options of `NatsEventLog.connect` and `NatsSnapshotStore.connect`: the servers and the
 * credentials of a WebSocket connection that the adapter opens and owns.
 *
 * @module
 */

import {
  type Authenticator,
  credsAuthenticator,
  type NatsConnection,
  nkeyAuthenticator,
  wsconnect,
  type WsConnectionOptions,
  type WsSocketFactory,
} from "@nats-io/nats-core";
import { StorageError } from "../../src/errors.ts";
import {
  anyValue,
  functionOption,
  type OptionRule,
  type OptionRules,
  readOptions,
  secretOption,
  stringOption,
} from "../../src/_options.ts";
import { redactUrl, scrubSecrets, secretsOf, secretsOfUrl } from "../../src/_redact.ts";
import { failureOf } from "./_storage_errors.ts";
import { connectFailureHint } from "./_connect_failure.ts";

/**
 * Where and how to connect over WebSocket. Reconnects are on and unlimited by default, so the
 * adapter survives a server restart; each call still fails after its `timeout`.
 *
 * On Node 20, which has no global `WebSocket`, run `node --experimental-websocket` or pass a
 * `wsFactory` (for example one built on the `ws` package).
 *
 * @example Connect with a .creds file, over a WebSocket from the `ws` package
 * ```ts ignore
 * import { NatsEventLog } from "@eventsourced/eventsourced/nats";
 * import { readFile } from "node:fs/promises";
 * import WebSocket from "ws";
 *
 * const log = await NatsEventLog.connect({
 *   servers: "wss://nats.example.com:443",
 *   credentials: await readFile("app.creds"),
 *   wsFactory: (url) => Promise.resolve({ socket: new WebSocket(url) as never, encrypted: true }),
 * });
 * ```
 */
export interface NatsConnectOptions {
  /**
   * WebSocket URLs: `ws://host:port`, or `wss://host:port` where the runtime has TLS. Over
   * `wss://` the runtime verifies the server's certificate against the CAs it trusts; the
   * README's "NATS over TLS and wss://" shows how each runtime trusts a private CA. A URL may
   * carry credentials, `wss://user:pass@host` or `wss://token@host`; `user`, `pass` and
   * `token` given as options take precedence. Messages never show them.
   */
  servers: string | readonly string[];
  /** User name, with `pass`. */
  user?: string;
  /** Password, with `user`. */
  pass?: string;
  /** Authentication token. */
  token?: string;
  /** NKey seed (`SU…`) to sign the server's challenge. */
  nkeySeed?: string | Uint8Array;
  /** The contents of a `.creds` file (JWT and NKey seed). */
  credentials?: string | Uint8Array;
  /** Other authenticators from `@nats-io/nats-core`, tried after the ones above. */
  authenticator?: Authenticator | readonly Authenticator[];
  /** The connection's name, as servers show it. */
  name?: string;
  /**
   * The subject prefix of the connection's reply inboxes (default `_INBOX`): give each user its
   * own, matching `natsPermissions`' `inboxPrefix`, so that no user may read another's replies.
   */
  inboxPrefix?: string;
  /**
   * Builds the WebSocket, for runtimes without a global one or to give it TLS options (on Bun:
   * `new WebSocket(url, { tls: { ca } })`).
   */
  wsFactory?: WsSocketFactory;
  /** Any further `wsconnect` options; the fields above take precedence. */
  connectionOptions?: Omit<WsConnectionOptions, "servers">;
}

const isText = (value: unknown) => typeof value === "string" || value instanceof Uint8Array;
const textOrBytes: OptionRule<string | Uint8Array | undefined> = {
  default: undefined,
  valid: isText,
  expected: "a string or a Uint8Array",
};

/** The rules of {@linkcode NatsConnectOptions}, for `readOptions`. */
export const CONNECT_OPTION_RULES: OptionRules<NatsConnectOptions> = {
  servers: {
    default: [] as readonly string[],
    valid: (value) =>
      (typeof value === "string" && value !== "") ||
      (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")),
    expected: "a WebSocket URL or a non-empty array of them",
    secret: "url",
  },
  user: stringOption(undefined),
  pass: secretOption(stringOption(undefined)),
  token: secretOption(stringOption(undefined)),
  nkeySeed: secretOption(textOrBytes),
  credentials: secretOption(textOrBytes),
  authenticator: {
    default: undefined,
    valid: (value) =>
      typeof value === "function" ||
      (Array.isArray(value) && value.every((v) => typeof v === "function")),
    expected: "an authenticator function or an array of them",
    secret: true,
  },
  name: stringOption(undefined),
  inboxPrefix: stringOption(
    undefined,
    /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/,
    "a subject without wildcards",
  ),
  wsFactory: functionOption(undefined),
  connectionOptions: {
    ...anyValue(undefined),
    valid: (value) => typeof value === "object" && value !== null && !Array.isArray(value),
    expected: "an object of wsconnect options",
  },
};

/**
 * Reads the options of an adapter's `connect`: the connection's and the adapter's (`rules`),
 * refusing unknown keys and a missing `servers`.
 */
export function readConnectOptions<Options>(
  where: string,
  given: unknown,
  rules: OptionRules<Options>,
): NatsConnectOptions & Options {
  const options = readOptions<NatsConnectOptions & Options>(where, given, {
    ...CONNECT_OPTION_RULES,
    ...rules,
  } as OptionRules<NatsConnectOptions & Options>);
  if ([options.servers].flat().length === 0) {
    throw new TypeError(`Invalid ${where} options: servers is missing (a WebSocket URL)`);
  }
  return options;
}

const encoder = new TextEncoder();
const bytesOf = (value: string | Uint8Array) =>
  typeof value === "string" ? encoder.encode(value) : value;

/** Opens the connection that `connect` of an adapter owns. */
export function openConnection(options: NatsConnectOptions): Promise<NatsConnection> {
  if (options.wsFactory === undefined && typeof globalThis.WebSocket !== "function") {
    return Promise.reject(
      new TypeError(
        "Cannot connect to NATS over WebSocket: this runtime has no global WebSocket " +
          "(on Node 20 run node with --experimental-websocket, or pass wsFactory)",
      ),
    );
  }
  const authenticators: Authenticator[] = [];
  if (options.nkeySeed !== undefined) {
    authenticators.push(nkeyAuthenticator(bytesOf(options.nkeySeed)));
  }
  if (options.credentials !== undefined) {
    authenticators.push(credsAuthenticator(bytesOf(options.credentials)));
  }
  if (options.authenticator !== undefined) {
    authenticators.push(...[options.authenticator].flat());
  }
  const servers = [options.servers].flat();
  const given = { ...options.connectionOptions } as WsConnectionOptions;
  const secrets = [
    ...servers.flatMap(secretsOfUrl),
    ...secretsOf([given.pass, given.token, options.pass, options.token]),
    ...secretsOf([options.nkeySeed, options.credentials]),
  ];
  let parsed: ReturnType<typeof withoutCredentials>[];
  try {
    parsed = servers.map(withoutCredentials);
  } catch {
    return Promise.reject(
      new TypeError(
        `Invalid NATS server URL in ${servers.map(redactUrl).join(", ")}: ` +
          `expected ws://host:port or wss://host:port`,
      ),
    );
  }
  const connection: WsConnectionOptions = {
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    ...given,
    servers: parsed.map((server) => server.url),
  };
  // Credentials in a URL count only where no option gives them: nats-core would drop them.
  const fromUrl = parsed.find((server) => server.user !== undefined);
  if (fromUrl?.user !== undefined && fromUrl.pass !== undefined) {
    connection.user ??= fromUrl.user;
    connection.pass ??= fromUrl.pass;
  } else if (fromUrl?.user !== undefined) {
    connection.token ??= fromUrl.user;
  }
  if (options.user !== undefined) connection.user = options.user;
  if (options.pass !== undefined) connection.pass = options.pass;
  if (options.token !== undefined) connection.token = options.token;
  if (options.name !== undefined) connection.name = options.name;
  if (options.inboxPrefix !== undefined) connection.inboxPrefix = options.inboxPrefix;
  if (options.wsFactory !== undefined) connection.wsFactory = options.wsFactory;
  if (authenticators.length > 0) connection.authenticator = authenticators;
  // Some runtimes reject an unreachable server with an error whose message is empty: name
  // the servers and the error so the failure says what was tried, and the likely TLS cause
  // where the runtime gives none. Refused credentials are `permission-denied`; anything else
  // means the server could not be reached. Reconnects apply only after a first success, so a
  // certificate failure rejects after one attempt at each server instead of being retried.
  // The servers are named without credentials and the driver's text is scrubbed of every
  // secret given.
  return wsconnect(connection).catch((cause: unknown) => {
    const detail = cause instanceof Error ? cause.message || cause.name : String(cause);
    const reason = failureOf(cause, "read") === "permission-denied"
      ? "permission-denied"
      : "unavailable";
    const servers = parsed.map((server) => redactUrl(server.url));
    const hint = reason === "unavailable" ? connectFailureHint(servers, detail) : "";
    const message = scrubSecrets(
      `Cannot connect to NATS at ${servers.join(", ")}: ${detail}${hint}`,
      secrets,
    );
    throw new StorageError(message, { reason, cause });
  });
}

/**
 * A server URL split into the URL without its user information and the user and password
 * (percent-decoded) it held. Throws a URIError on a malformed percent escape.
 */
function withoutCredentials(server: string): { url: string; user?: string; pass?: string } {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i.exec(server);
  if (match === null) return { url: server };
  const url = server.slice(match[0].length);
  const auth = match[2]!;
  const colon = auth.indexOf(":");
  const bare = `${match[1]}${url}`;
  if (colon < 0) return { url: bare, user: decodeURIComponent(auth) };
  return {
    url: bare,
    user: decodeURIComponent(auth.slice(0, colon)),
    pass: decodeURIComponent(auth.slice(colon + 1)),
  };
}
