// Secrets never reach an error message, a log line or a thrown object: every message the
// library builds from a URL or an options object goes through these helpers first.

/** What a hidden secret is shown as. */
export const HIDDEN = "(hidden)";

// The schemes whose user name alone is a token (NATS: `nats://token@host`).
const TOKEN_AS_USER = /^(nats|tls|wss?):$/i;
// Query parameters whose values are secrets: passwords, tokens, keys, seeds, credentials.
const SECRET_PARAMETER = /pass|pwd|token|secret|jwt|seed|cred|key|auth|sig/i;
const AUTHORITY = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i;

/**
 * `url` with its password (or a NATS token given as the user) and the values of
 * secret-looking query parameters (`password=`, `token=`, …) replaced by `***`. Text that is
 * not a URL comes back unchanged.
 */
export function redactUrl(url: string): string {
  const withoutAuth = url.replace(AUTHORITY, (_, scheme: string, auth: string) => {
    const colon = auth.indexOf(":");
    if (colon >= 0) return `${scheme}${auth.slice(0, colon)}:***@`;
    return TOKEN_AS_USER.test(scheme.slice(0, -2)) ? `${scheme}***@` : `${scheme}${auth}@`;
  });
  return withoutAuth.replace(
    /([?&;])([^=&#;]*)=([^&#;]*)/g,
    (whole, separator: string, name: string) =>
      SECRET_PARAMETER.test(decodeSafely(name)) ? `${separator}${name}=***` : whole,
  );
}

/**
 * The credentials written into `url`: the password (or a NATS token given as the user) and
 * secret query parameter values, each raw and percent-decoded, so that text a driver built
 * from them can be scrubbed with {@linkcode scrubSecrets}.
 */
export function secretsOfUrl(url: string): string[] {
  const found: string[] = [];
  const match = AUTHORITY.exec(url);
  if (match !== null) {
    const auth = match[2]!;
    const colon = auth.indexOf(":");
    if (colon >= 0) found.push(auth.slice(colon + 1));
    else if (TOKEN_AS_USER.test(match[1]!.slice(0, -2))) found.push(auth);
  }
  for (const [, name, value] of url.matchAll(/[?&;]([^=&#;]*)=([^&#;]*)/g)) {
    if (SECRET_PARAMETER.test(decodeSafely(name!))) found.push(value!);
  }
  return unique(found.flatMap((secret) => [secret, decodeSafely(secret)]));
}

/**
 * The secrets among option values: strings as they are and `Uint8Array`s as UTF-8 text, plus
 * the credentials of every URL among them. `undefined` and empty values are skipped.
 */
export function secretsOf(values: readonly unknown[]): string[] {
  const found: string[] = [];
  for (const value of values) {
    if (typeof value === "string") found.push(value);
    else if (value instanceof Uint8Array) found.push(new TextDecoder().decode(value));
  }
  return unique(found);
}

/**
 * `text` with every occurrence of each secret replaced by `***`. Secrets shorter than 3
 * characters are left alone: replacing them would garble the text and hide nothing.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let scrubbed = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 3) scrubbed = scrubbed.split(secret).join("***");
  }
  return scrubbed;
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values.filter((value) => value !== ""))];
}
