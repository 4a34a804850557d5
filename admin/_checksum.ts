// A 64-bit non-cryptographic checksum, built up piece by piece, for comparing two copies of a log.
//
// Web Crypto's digest is one-shot and asynchronous, so hashing each event with it would cost a
// promise per event; two independent 32-bit multiply-xorshift lanes (in the manner of cyrb53,
// written here) fold bytes synchronously at memory speed and, with 64 bits, make an accidental
// match of two differing entities vanishingly rare. It guards against mistakes, not attackers.

import type { PersistedEvent } from "../src/event_log.ts";
import type { EventMetadata } from "../src/event_metadata.ts";

const TWO_32 = 2 ** 32;

/** A running 64-bit checksum: feed it values in order, read it as 16 hex digits. */
export class Checksum64 {
  #a = 0x9e3779b9;
  #b = 0x85ebca6b;

  /** Folds one 32-bit word into both lanes. */
  word(value: number): this {
    this.#a = Math.imul(this.#a ^ value, 0x85ebca77);
    this.#a ^= this.#a >>> 15;
    this.#b = Math.imul(this.#b ^ value, 0xc2b2ae3d);
    this.#b ^= this.#b >>> 13;
    return this;
  }

  /** Folds a non-negative safe integer (two words, so values past 2^32 count in full). */
  integer(value: number): this {
    return this.word(value >>> 0).word(Math.floor(value / TWO_32));
  }

  /** Folds bytes, preceded by their length so that neighbouring fields cannot trade bytes. */
  bytes(bytes: Uint8Array): this {
    this.word(bytes.length);
    const length = bytes.length;
    let i = 0;
    for (; i + 4 <= length; i += 4) {
      this.word(bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    }
    let tail = 0;
    for (let shift = 0; i < length; i++, shift += 8) tail |= bytes[i]! << shift;
    return this.word(tail);
  }

  /** Folds a string as its UTF-16 code units, preceded by its length. */
  string(value: string): this {
    this.word(value.length);
    for (let i = 0; i < value.length; i++) this.word(value.charCodeAt(i));
    return this;
  }

  /** The checksum so far, as 16 hex digits. */
  digest(): string {
    let a = this.#a, b = this.#b;
    a = Math.imul(a ^ (a >>> 16), 0x85ebca6b) ^ Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
    b = Math.imul(b ^ (b >>> 16), 0x85ebca6b) ^ Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
    return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
  }
}

/** Folds metadata in a fixed field order, header names sorted, absent fields told apart. */
function foldMetadata(sum: Checksum64, metadata: EventMetadata): void {
  for (const value of [metadata.commandId, metadata.correlationId, metadata.causationId]) {
    if (value === undefined) sum.word(0);
    else sum.word(1).string(value);
  }
  const headers = metadata.headers;
  if (headers === undefined) {
    sum.word(0);
    return;
  }
  const names = Object.keys(headers).sort();
  sum.word(1).word(names.length);
  for (const name of names) sum.string(name).string(headers[name]!);
}

/**
 * Folds what a copy keeps of an event into `sum`: seqNo, version, writtenAt, metadata and bytes,
 * and the position when `withPosition`.
 */
export function foldEvent(sum: Checksum64, event: PersistedEvent, withPosition: boolean): void {
  sum.integer(event.seqNo).integer(event.version).integer(event.writtenAt);
  if (withPosition) sum.integer(event.position);
  foldMetadata(sum, event.metadata);
  sum.bytes(event.bytes);
}
