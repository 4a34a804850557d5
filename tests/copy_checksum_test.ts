// The 64-bit checksum that verifies copies: deterministic, sensitive to every field it covers,
// and to the order of what it folds.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { PersistedEvent } from "../mod.ts";
import { Checksum64, foldEvent } from "../admin/_checksum.ts";

const event: PersistedEvent = {
  typeName: "t",
  id: "a",
  seqNo: 1,
  position: 1,
  bytes: new Uint8Array([1, 2, 3, 4, 5]),
  version: 1,
  writtenAt: 1_764_000_000_000,
  metadata: { commandId: "c", headers: { a: "1", b: "2" } },
};

function digest(e: PersistedEvent, withPosition = true): string {
  const sum = new Checksum64();
  foldEvent(sum, e, withPosition);
  return sum.digest();
}

test("Checksum64 gives the same 16 hex digits for the same input, and others for any change", () => {
  const base = digest(event);
  assert.match(base, /^[0-9a-f]{16}$/);
  assert.equal(digest({ ...event, bytes: new Uint8Array([1, 2, 3, 4, 5]) }), base);
  // Header order does not matter: it is a set of names.
  assert.equal(
    digest({ ...event, metadata: { commandId: "c", headers: { b: "2", a: "1" } } }),
    base,
  );
  const changed: PersistedEvent[] = [
    { ...event, seqNo: 2 },
    { ...event, position: 2 },
    { ...event, version: 2 },
    { ...event, writtenAt: event.writtenAt + 1 },
    { ...event, writtenAt: event.writtenAt + 2 ** 32 },
    { ...event, bytes: new Uint8Array([1, 2, 3, 4, 6]) },
    { ...event, bytes: new Uint8Array([1, 2, 3, 4, 5, 0]) },
    { ...event, bytes: new Uint8Array([1, 2, 3, 4]) },
    { ...event, metadata: { commandId: "c" } },
    { ...event, metadata: { correlationId: "c", headers: { a: "1", b: "2" } } },
    { ...event, metadata: { commandId: "c", headers: { a: "1", b: "3" } } },
    { ...event, metadata: { commandId: "c", headers: { a: "12", b: "" } } },
  ];
  const digests = new Set([base, ...changed.map((e) => digest(e))]);
  assert.equal(digests.size, changed.length + 1);
  // Without positions, a position change is not seen.
  assert.equal(digest({ ...event, position: 9 }, false), digest(event, false));
});

test("Checksum64 depends on the order of what it folds", () => {
  const ab = new Checksum64().string("a").string("b").digest();
  const ba = new Checksum64().string("b").string("a").digest();
  assert.notEqual(ab, ba);
  assert.notEqual(new Checksum64().string("ab").digest(), ab);
  assert.equal(new Checksum64().digest(), new Checksum64().digest());
});

test("Checksum64 tells apart 200 000 distinct small inputs", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200_000; i++) seen.add(new Checksum64().integer(i).digest());
  assert.equal(seen.size, 200_000);
});
