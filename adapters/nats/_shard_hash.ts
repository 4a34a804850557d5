// Which shard an entity id belongs to: FNV-1a (32 bits) of the id's UTF-8 bytes, modulo the
// cluster's shard count. Every process of a cluster, on any runtime, must compute the same
// shard for the same id, so the hash works on bytes, never on UTF-16 units or a runtime's
// own string hash.

const encoder = new TextEncoder();

/** The name under which this hash is stored with a cluster, so a different one is refused. */
export const SHARD_HASH = "fnv1a32-utf8";

/** FNV-1a, 32 bits, of the UTF-8 bytes of `text`, as an unsigned integer. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The shard of entity `id` among `shards` shards: `0 ≤ shard < shards`. */
export function shardOf(id: string, shards: number): number {
  return fnv1a32(id) % shards;
}
