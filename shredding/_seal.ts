// Encrypting and decrypting an envelope's personal part with its entity's key: AES-GCM with a
// random 12-byte IV, the envelope's other bytes, the key id and the entity bound as additional
// data, so that a ciphertext moved to another entity or another envelope does not decrypt.

import type { EntityKey } from "./_key_ring.ts";
import { type Envelope, Personal, replacePersonal } from "./_envelope.ts";

const IV_BYTES = 12;
const KEY_ID_BYTES = 16;
const encoder = new TextEncoder();

/** The envelope with its personal part encrypted. */
export async function seal(
  envelope: Envelope,
  key: EntityKey,
  typeName: string,
  id: string,
): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: additionalData(envelope, key.keyId, typeName, id) },
      key.key,
      envelope.personalBytes.slice(),
    ),
  );
  const sealed = new Uint8Array(KEY_ID_BYTES + IV_BYTES + ciphertext.length);
  sealed.set(key.keyId, 0);
  sealed.set(iv, KEY_ID_BYTES);
  sealed.set(ciphertext, KEY_ID_BYTES + IV_BYTES);
  return replacePersonal(envelope, Personal.Sealed, sealed);
}

/**
 * The envelope with its personal part decrypted, or marked forgotten when the entity has no key
 * or another key than the one it was sealed with. Throws when the ciphertext does not
 * authenticate (altered, or moved from elsewhere under the same key).
 */
export async function unseal(
  envelope: Envelope,
  key: EntityKey | null,
  typeName: string,
  id: string,
  what: string,
): Promise<Uint8Array> {
  const sealed = envelope.personalBytes;
  if (sealed.length < KEY_ID_BYTES + IV_BYTES + 16) {
    throw new Error(`shredding: the encrypted part of ${what} is cut short`);
  }
  const keyId = sealed.subarray(0, KEY_ID_BYTES);
  if (key === null || !sameBytes(keyId, key.keyId)) {
    return replacePersonal(envelope, Personal.Forgotten, new Uint8Array(0));
  }
  let clear: ArrayBuffer;
  try {
    clear = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: sealed.slice(KEY_ID_BYTES, KEY_ID_BYTES + IV_BYTES),
        additionalData: additionalData(envelope, keyId, typeName, id),
      },
      key.key,
      sealed.slice(KEY_ID_BYTES + IV_BYTES),
    );
  } catch (error) {
    throw new Error(
      `shredding: the encrypted part of ${what} does not decrypt with its entity's key: it was ` +
        "altered, or copied from another event",
      { cause: error },
    );
  }
  return replacePersonal(envelope, Personal.Clear, new Uint8Array(clear));
}

function additionalData(
  envelope: Envelope,
  keyId: Uint8Array,
  typeName: string,
  id: string,
): Uint8Array<ArrayBuffer> {
  const entity = encoder.encode(JSON.stringify([typeName, id]));
  const out = new Uint8Array(envelope.head.length + KEY_ID_BYTES + entity.length);
  out.set(envelope.head, 0);
  out.set(keyId, envelope.head.length);
  out.set(entity, envelope.head.length + KEY_ID_BYTES);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
