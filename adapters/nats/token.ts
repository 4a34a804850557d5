/**
 * The lossless encoding of ids and type names into NATS subject tokens and KV key tokens.
 *
 * @module
 */

const HEX = "0123456789ABCDEF";
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// A-Z, a-z, 0-9, "-" and "_" stay as they are; every other UTF-8 byte becomes "=XX".
function isPlain(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x5f;
}

/**
 * Encodes `text` into a token that is valid both in a NATS subject and in a KV key: the
 * characters `A-Z a-z 0-9 - _` stay as they are, every other UTF-8 byte becomes `=` and two
 * upper-case hex digits (so `.`, `*`, `>`, spaces, `=` and non-ASCII never reach the server).
 * The encoding is injective and {@linkcode decodeToken} reverses it. Type names (only
 * `A-Z a-z 0-9 _ -`) come out unchanged; `"a.b"` becomes `"a=2Eb"`.
 *
 * Use it to find an entity's subject, `<subjectPrefix>.<typeName>.<encodeToken(id)>`, for your
 * own NATS consumers.
 *
 * @example Encode an id with a dot and an emoji
 * ```ts
 * import { decodeToken, encodeToken } from "@eventsourced/eventsourced/nats";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeToken("order-1"), "order-1");
 * assert.equal(encodeToken("a.b"), "a=2Eb");
 * assert.equal(encodeToken("😀"), "=F0=9F=98=80");
 * assert.equal(decodeToken(encodeToken("a.b *>")), "a.b *>");
 * ```
 */
export function encodeToken(text: string): string {
  let i = 0;
  while (i < text.length && isPlain(text.charCodeAt(i))) i++;
  if (i === text.length) return text;
  let out = text.slice(0, i);
  for (const byte of encoder.encode(text.slice(i))) {
    out += isPlain(byte) ? String.fromCharCode(byte) : `=${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return out;
}

/**
 * Reverses {@linkcode encodeToken}. Throws a `TypeError` for a token that `encodeToken` cannot
 * have produced (a character outside its alphabet, a bad escape, or invalid UTF-8).
 *
 * @example Decode a token from a subject
 * ```ts
 * import { decodeToken } from "@eventsourced/eventsourced/nats";
 * import assert from "node:assert/strict";
 *
 * assert.equal(decodeToken("a=2Eb"), "a.b");
 * assert.equal(decodeToken("plain_id-1"), "plain_id-1");
 * assert.throws(() => decodeToken("a.b"), TypeError);
 * ```
 */
export function decodeToken(token: string): string {
  const escape = token.indexOf("=");
  const plainEnd = escape === -1 ? token.length : escape;
  for (let i = 0; i < plainEnd; i++) {
    if (!isPlain(token.charCodeAt(i))) throw invalidToken(token);
  }
  if (escape === -1) return token;
  const bytes = new Uint8Array(token.length);
  let length = 0;
  for (let i = 0; i < plainEnd; i++) bytes[length++] = token.charCodeAt(i);
  for (let i = plainEnd; i < token.length;) {
    const code = token.charCodeAt(i);
    if (code === 0x3d) {
      const high = hexValue(token.charCodeAt(i + 1));
      const low = hexValue(token.charCodeAt(i + 2));
      if (high === -1 || low === -1) throw invalidToken(token);
      const byte = (high << 4) | low;
      // A plain byte written as an escape would give a second encoding of the same text.
      if (isPlain(byte)) throw invalidToken(token);
      bytes[length++] = byte;
      i += 3;
    } else if (isPlain(code)) {
      bytes[length++] = code;
      i++;
    } else {
      throw invalidToken(token);
    }
  }
  try {
    return decoder.decode(bytes.subarray(0, length));
  } catch (cause) {
    throw new TypeError(`Invalid token ${JSON.stringify(token)}: not UTF-8`, { cause });
  }
}

// Upper-case hex digits only, so each byte has one spelling; NaN (past the end) gives -1.
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  return -1;
}

function invalidToken(token: string): TypeError {
  return new TypeError(
    `Invalid token ${JSON.stringify(token)}: expected A-Z, a-z, 0-9, "-", "_" and "=XX" escapes`,
  );
}
