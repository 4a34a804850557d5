// Small byte arrays for encoded events. On Deno, allocating a fresh Uint8Array costs about a
// microsecond (more than encoding a small event), while a view into a shared slab is cheap;
// on Node and Bun it is the other way round. So Deno carves short arrays out of a slab (views
// keep their slab alive, as Node's Buffer pool does; a slab is never written again once handed
// out) and the others allocate. This is a speed choice only: both give the same bytes.

const SLAB_SIZE = 64 * 1024;
const LARGEST_SLICE = 1024;
const useSlab = typeof (globalThis as { Deno?: unknown }).Deno === "object";

let slab = new Uint8Array(useSlab ? SLAB_SIZE : 0);
let offset = 0;

/** A zero-filled array of `length` bytes that nothing else will ever write. */
export function allocate(length: number): Uint8Array {
  if (!useSlab || length > LARGEST_SLICE) return new Uint8Array(length);
  if (offset + length > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    offset = 0;
  }
  const start = offset;
  offset += length;
  return slab.subarray(start, offset);
}
