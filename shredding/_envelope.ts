// The bytes a shredding codec writes: a prefix that names the format, the public part (the inner
// codec's bytes, in clear), the names of the personal fields present, and the personal part,
// whose state says whether it is in clear (to be encrypted by the log layer), sealed, or
// forgotten. The log layer changes only the state and the personal part, so the rest is bound
// to the ciphertext as additional data.

/** The first bytes of every envelope: a zero byte never starts JSON or a protobuf message. */
const MAGIC = [0x00, 0x53, 0x48, 0x52] as const; // "\0SHR"
const FORMAT = 1;
const HEADER = 10; // magic, format, flags, public length (u32)

/** What the personal part holds. */
export const Personal = {
  /** No personal data: nothing to encrypt. */
  None: 0,
  /** In clear: the log layer encrypts it on write, or decrypted it on read. */
  Clear: 1,
  /** Encrypted: key id (16 bytes), IV (12 bytes), AES-GCM ciphertext. */
  Sealed: 2,
  /** Its key is gone. */
  Forgotten: 3,
} as const;
/** One of {@linkcode Personal}'s values. */
export type Personal = (typeof Personal)[keyof typeof Personal];

const STATE_MASK = 0b11;
/** The personal part is the whole event or state (no public part, no names). */
export const WHOLE = 0b100;
/** A state of a snapshot, not an event. */
export const SNAPSHOT = 0b1000;
/** The codec has a value for a whole state forgotten. */
export const FALLBACK = 0b10000;

/** An envelope read into its parts (views into the bytes). */
export interface Envelope {
  readonly flags: number;
  readonly personal: Personal;
  readonly publicBytes: Uint8Array;
  readonly names: readonly string[];
  /** The bytes up to the personal part, with the personal state cleared. */
  readonly head: Uint8Array;
  readonly personalBytes: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Whether `bytes` begin like an envelope. */
export function isEnvelope(bytes: Uint8Array): boolean {
  return bytes.length >= HEADER && bytes[0] === MAGIC[0] && bytes[1] === MAGIC[1] &&
    bytes[2] === MAGIC[2] && bytes[3] === MAGIC[3];
}

/** The envelope of the given parts. */
export function writeEnvelope(
  flags: number,
  personal: Personal,
  publicBytes: Uint8Array,
  names: readonly string[],
  personalBytes: Uint8Array,
): Uint8Array {
  const namesBytes = names.length === 0 ? new Uint8Array(0) : encoder.encode(JSON.stringify(names));
  if (namesBytes.length > 0xffff) throw new Error("shredding: too many personal field names");
  const out = new Uint8Array(
    HEADER + publicBytes.length + 2 + namesBytes.length + personalBytes.length,
  );
  out.set(MAGIC, 0);
  out[4] = FORMAT;
  out[5] = (flags & ~STATE_MASK) | personal;
  const view = new DataView(out.buffer);
  view.setUint32(6, publicBytes.length);
  out.set(publicBytes, HEADER);
  view.setUint16(HEADER + publicBytes.length, namesBytes.length);
  out.set(namesBytes, HEADER + publicBytes.length + 2);
  out.set(personalBytes, HEADER + publicBytes.length + 2 + namesBytes.length);
  return out;
}

/** The same envelope with another personal part. */
export function replacePersonal(
  envelope: Envelope,
  personal: Personal,
  personalBytes: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(envelope.head.length + personalBytes.length);
  out.set(envelope.head, 0);
  out[5] = envelope.flags | personal;
  out.set(personalBytes, envelope.head.length);
  return out;
}

/** Reads an envelope; throws on bytes that are not a well-formed one. */
export function readEnvelope(bytes: Uint8Array): Envelope {
  if (!isEnvelope(bytes)) throw new Error("shredding: the bytes are not a shredding envelope");
  if (bytes[4] !== FORMAT) {
    throw new Error(
      `shredding: envelope format ${bytes[4]} is unknown (this version reads ${FORMAT})`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const publicLength = view.getUint32(6);
  const namesAt = HEADER + publicLength;
  if (namesAt + 2 > bytes.length) throw corrupt();
  const namesLength = view.getUint16(namesAt);
  const personalAt = namesAt + 2 + namesLength;
  if (personalAt > bytes.length) throw corrupt();
  const flags = bytes[5]! & ~STATE_MASK;
  return {
    flags,
    personal: (bytes[5]! & STATE_MASK) as Personal,
    publicBytes: bytes.subarray(HEADER, namesAt),
    get names() {
      return namesLength === 0 ? [] : readNames(bytes.subarray(namesAt + 2, personalAt));
    },
    get head() {
      const head = bytes.slice(0, personalAt);
      head[5] = flags;
      return head;
    },
    personalBytes: bytes.subarray(personalAt),
  };
}

function readNames(bytes: Uint8Array): readonly string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch {
    throw corrupt();
  }
  if (!Array.isArray(parsed) || !parsed.every((n) => typeof n === "string")) throw corrupt();
  return parsed;
}

function corrupt(): Error {
  return new Error("shredding: the envelope is cut short or corrupt");
}
