// What the NATS store admin reads and writes of the offset bucket: a key per projection over
// one type (its name, a decimal), and one per projection over several types (`types.<name>`,
// every type's offset in one JSON value; see _type_offsets.ts).

import type { KV } from "@nats-io/kv";
import type { ProjectionOffset } from "../../admin/store_admin.ts";
import { compareCodePoints } from "../../admin/_order.ts";
import { StorageError } from "../../src/errors.ts";
import { withSignal } from "./_jetstream.ts";
import {
  decodeTypeOffsets,
  encodeTypeOffsets,
  nameOfTypeOffsetsKey,
  readTypeOffsets,
  typeOffsetsKey,
} from "./_type_offsets.ts";

/** Every offset in the bucket, in name order, each name's single-type row before its types. */
export async function listOffsets(
  kv: KV,
  bucket: string,
  what: string,
  signal: AbortSignal | undefined,
): Promise<ProjectionOffset[]> {
  const keys: string[] = [];
  await withSignal(
    (async () => {
      for await (const key of await kv.keys(">")) keys.push(key);
    })(),
    signal,
  );
  const offsets: ProjectionOffset[] = [];
  for (const key of keys) {
    const entry = await withSignal(kv.get(key), signal);
    if (entry === null || entry.operation !== "PUT") continue;
    const updatedAt = entry.created.getTime();
    const typesOf = nameOfTypeOffsetsKey(key);
    if (typesOf !== undefined) {
      const where = `projection "${typesOf}" in bucket "${bucket}"`;
      for (const [typeName, offset] of decodeTypeOffsets(entry.string(), where)) {
        offsets.push({ name: typesOf, typeName, offset, updatedAt });
      }
      continue;
    }
    const offset = Number(entry.string());
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new StorageError(
        `${what}: the offset of projection "${key}" in bucket "${bucket}" is ${
          JSON.stringify(entry.string())
        }, not an offset`,
        { reason: "corrupt-data" },
      );
    }
    offsets.push({ name: key, offset, updatedAt });
  }
  // A single-type offset of 0 beside type offsets is left out, as every store admin does.
  const typed = new Set(offsets.flatMap((p) => p.typeName === undefined ? [] : [p.name]));
  const listed = offsets.filter((p) =>
    p.typeName !== undefined || p.offset !== 0 || !typed.has(p.name)
  );
  // A name's single-type row (no typeName) sorts before its types: "" before any type name.
  return listed.sort((a, b) =>
    compareCodePoints(a.name, b.name) || compareCodePoints(a.typeName ?? "", b.typeName ?? "")
  );
}

/**
 * Sets the offsets of `name` as `StoreAdmin.resetProjection` does; the caller holds the name.
 * A runner in another process finds the revision moved at its next commit (an offset conflict).
 */
export async function resetOffsets(
  kv: KV,
  bucket: string,
  name: string,
  offset: number,
  typeName: string | undefined,
): Promise<void> {
  const types = await readTypeOffsets(kv, name, bucket);
  if (typeName !== undefined) {
    const next = new Map(types.offsets).set(typeName, offset);
    await kv.put(typeOffsetsKey(name), encodeTypeOffsets(next));
    return;
  }
  if (types.offsets.size > 0) {
    const next = new Map([...types.offsets.keys()].map((type) => [type, offset]));
    await kv.put(typeOffsetsKey(name), encodeTypeOffsets(next));
    const single = await kv.get(name);
    if (single === null || single.operation !== "PUT" || Number(single.string()) === 0) return;
  }
  await kv.put(name, String(offset));
}
