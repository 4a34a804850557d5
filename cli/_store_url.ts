import { redactUrl as redactLibraryUrl, secretsOfUrl } from "../src/_redact.ts";

/** Where a store is, as read from the URL on the command line. */
export type StoreLocation =
  | { readonly kind: "postgres"; readonly url: string; readonly address: string }
  | { readonly kind: "pglite"; readonly dataDir: string }
  | {
    readonly kind: "nats";
    readonly server: string;
    readonly address: string;
    readonly user?: string;
    readonly pass?: string;
    readonly token?: string;
  };

/** The URL schemes the tool knows, as its messages list them. */
export const KNOWN_SCHEMES =
  "postgres://, postgresql://, pglite:PATH, file:PATH, nats://, ws://, wss://";

const DEFAULT_PORTS: Record<string, string> = {
  "postgres:": "5432",
  "postgresql:": "5432",
  "nats:": "4222",
  "ws:": "80",
  "wss:": "443",
};

/**
 * `url` with any password (and a NATS token given as the user) replaced by `***`, for every
 * message the tool prints: credentials on the command line never reach a terminal or a log.
 */
export const redactUrl: (url: string) => string = redactLibraryUrl;

/** Reads a store URL; a `TypeError` names the scheme it got and the ones it knows. */
export function parseStoreUrl(url: string): StoreLocation {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw new TypeError(
      `Invalid store URL "${redactUrl(url)}": no scheme (expected one of ${KNOWN_SCHEMES})`,
    );
  }
  if (scheme === "pglite" || scheme === "file") {
    const path = scheme === "pglite" ? url.slice("pglite:".length) : fileUrlPath(url);
    if (path === "") throw new TypeError(`Invalid store URL "${url}": the path is empty`);
    return { kind: "pglite", dataDir: path };
  }
  if (!(`${scheme}:` in DEFAULT_PORTS)) {
    throw new TypeError(
      `Invalid store URL "${redactUrl(url)}": unknown scheme "${scheme}:" ` +
        `(expected one of ${KNOWN_SCHEMES})`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`Invalid store URL "${redactUrl(url)}": it is not a well-formed URL`);
  }
  if (parsed.hostname === "") {
    throw new TypeError(`Invalid store URL "${redactUrl(url)}": the host is missing`);
  }
  const address = `${parsed.hostname}:${parsed.port || DEFAULT_PORTS[parsed.protocol]}`;
  if (scheme === "postgres" || scheme === "postgresql") return { kind: "postgres", url, address };
  const user = decodeURIComponent(parsed.username);
  const pass = decodeURIComponent(parsed.password);
  const server = `${parsed.protocol}//${parsed.host}${
    parsed.pathname === "/" ? "" : parsed.pathname
  }`;
  if (user !== "" && pass === "") return { kind: "nats", server, address, token: user };
  if (user !== "") return { kind: "nats", server, address, user, pass };
  return { kind: "nats", server, address };
}

function fileUrlPath(url: string): string {
  if (!url.startsWith("file://")) return url.slice("file:".length);
  try {
    return decodeURIComponent(new URL(url).pathname);
  } catch {
    throw new TypeError(`Invalid store URL "${url}": it is not a well-formed file: URL`);
  }
}

/**
 * The credentials in `url` (password, or a NATS token given as the user), raw and decoded, so
 * messages built from them by a driver can be scrubbed.
 */
export const secretsOf: (url: string) => string[] = secretsOfUrl;
