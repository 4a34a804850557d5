// The TLS settings of a connection URL that postgres.js leaves to the adapter. postgres.js reads
// `sslmode`, and of `sslrootcert` only the value `system`: any other value (libpq's CA file)
// would go to the server as a setting. Here a CA file becomes `ssl: { ca }`, and an `ssl` option
// that would verify less than the URL's `sslmode` asks for is refused rather than let win.

import { readFileSync } from "node:fs";

/** The URL and `ssl` option to give postgres.js. */
export interface UrlTls {
  readonly url: string | undefined;
  readonly ssl: unknown;
}

const VERIFYING = new Set(["verify-ca", "verify-full"]);
const PLAIN_ALLOWED = new Set(["disable", "allow", "prefer"]);

/** Whether `ssl` (the option) turns certificate verification off or TLS itself. */
function verifiesLess(ssl: unknown): boolean {
  if (ssl === false || ssl === "disable" || ssl === "require") return true;
  if (ssl === "allow" || ssl === "prefer") return true;
  return ssl !== null && typeof ssl === "object" &&
    (ssl as { rejectUnauthorized?: unknown }).rejectUnauthorized === false;
}

/**
 * Reads `sslrootcert=FILE` (the CA to trust; the certificate and the host name are then
 * verified) out of `url`, and checks that `ssl` does not weaken a verifying `sslmode`. Throws a
 * RangeError naming the conflict or the unreadable file before anything is opened.
 */
export function urlTls(url: string | undefined, ssl: unknown): UrlTls {
  const at = url?.indexOf("?") ?? -1;
  if (url === undefined || at < 0) return { url, ssl };
  const params = new URLSearchParams(url.slice(at + 1));
  const mode = params.get("sslmode");
  const rootCert = params.get("sslrootcert");
  const verifying = (mode !== null && VERIFYING.has(mode)) ||
    (rootCert !== null && rootCert !== "");
  if (ssl !== undefined && verifying && verifiesLess(ssl)) {
    const asks = [mode === null ? "" : `sslmode=${mode}`, rootCert === null ? "" : "sslrootcert"]
      .filter((part) => part !== "").join(" and ");
    throw new RangeError(
      `PostgresConnectOptions.ssl: ${describeSsl(ssl)} would not verify the server, while ` +
        `the url asks for verification (${asks}); give ssl: { ca } or leave ssl out`,
    );
  }
  if (rootCert === null || rootCert === "" || rootCert === "system") return { url, ssl };
  if (ssl !== undefined) {
    throw new RangeError(
      "PostgresConnectOptions: the url's sslrootcert and the ssl option both say how to " +
        "verify the server; give the CA once",
    );
  }
  if (mode !== null && PLAIN_ALLOWED.has(mode)) {
    throw new RangeError(
      `PostgresConnectOptions.url: sslrootcert asks to verify the server, but ` +
        `sslmode=${mode} would accept it without (use sslmode=verify-full)`,
    );
  }
  let ca: string;
  try {
    ca = readFileSync(rootCert, "utf8");
  } catch (error) {
    throw new RangeError(
      `PostgresConnectOptions.url: cannot read the sslrootcert file ${rootCert} (${
        (error as Error).message
      })`,
      { cause: error },
    );
  }
  params.delete("sslrootcert");
  params.delete("sslmode");
  const rest = params.toString();
  return { url: url.slice(0, at) + (rest === "" ? "" : `?${rest}`), ssl: { ca } };
}

// An object of TLS options may hold a client key or its passphrase: name its kind, never its
// contents.
function describeSsl(ssl: unknown): string {
  return typeof ssl === "object" && ssl !== null
    ? "an object with rejectUnauthorized: false"
    : JSON.stringify(ssl);
}
