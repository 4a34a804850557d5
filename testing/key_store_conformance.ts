/**
 * The conformance suite for {@linkcode KeyStore} implementations.
 *
 * @module
 */

import { functionOption, integerAtLeast, readOptions } from "../src/_options.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import type { KeyStore, StoredKey } from "../shredding/key_store.ts";
import { uniqueTypeName } from "./_collect.ts";

/**
 * Options of {@linkcode testKeyStore}.
 *
 * @example Close each store after its test
 * ```ts
 * import type { KeyStoreSuiteOptions } from "@eventsourced/eventsourced/testing";
 * import { MemoryKeyStore } from "@eventsourced/eventsourced/shredding";
 *
 * const options: KeyStoreSuiteOptions = { dispose: () => {}, timeout: 10_000 };
 * options.dispose?.(new MemoryKeyStore());
 * ```
 */
export interface KeyStoreSuiteOptions {
  /** Releases a store made by the factory after each test. */
  dispose?: (store: KeyStore) => void | Promise<void>;
  /** Per-test timeout in ms; default 30 000. */
  timeout?: number;
}

/**
 * Registers the key store conformance tests under `name`: get, create (the first key wins, also
 * between concurrent creates), delete, type names and ids as separate keys, copies of bytes, bad
 * input refused before any write, and signals. Tests use type names of their own, so a factory
 * may return stores over one shared database or bucket.
 *
 * @example Run the suite against the memory store
 * ```ts ignore
 * import { MemoryKeyStore } from "@eventsourced/eventsourced/shredding";
 * import { testKeyStore } from "@eventsourced/eventsourced/testing";
 *
 * testKeyStore("MemoryKeyStore", () => new MemoryKeyStore());
 * ```
 */
export function testKeyStore(
  name: string,
  factory: () => KeyStore | Promise<KeyStore>,
  given?: KeyStoreSuiteOptions,
): void {
  const options = readOptions<KeyStoreSuiteOptions>("testKeyStore", given, {
    dispose: functionOption(undefined),
    timeout: integerAtLeast(1, 30_000),
  });
  const timeout = options.timeout!;
  const check = (title: string, body: (store: KeyStore) => Promise<void>) => {
    test(`${name}: ${title}`, { timeout }, async () => {
      const store = await factory();
      try {
        await body(store);
      } finally {
        await options.dispose?.(store);
      }
    });
  };

  check("get of an entity without a key is null", async (store) => {
    assert.equal(await store.get(uniqueTypeName(), "a"), null);
  });

  check("create resolves to the key; get returns the same bytes", async (store) => {
    const typeName = uniqueTypeName();
    const key = newKey(1);
    assertSameKey(await store.create(typeName, "a", key), key);
    assertSameKey(await store.get(typeName, "a"), key);
  });

  check("the 16 to 1024 bytes a key may have round-trip", async (store) => {
    const typeName = uniqueTypeName();
    for (const size of [16, 32, 60, 1024]) {
      const key = { keyId: bytes(16, size), key: bytes(size, 7) };
      await store.create(typeName, `size-${size}`, key);
      assertSameKey(await store.get(typeName, `size-${size}`), key);
    }
  });

  check("a second create keeps the first key and resolves to it", async (store) => {
    const typeName = uniqueTypeName();
    const first = newKey(1);
    await store.create(typeName, "a", first);
    assertSameKey(await store.create(typeName, "a", newKey(2)), first);
    assertSameKey(await store.get(typeName, "a"), first);
  });

  check("concurrent creates all resolve to the one key that won", async (store) => {
    const typeName = uniqueTypeName();
    const candidates = Array.from({ length: 8 }, (_, i) => newKey(i + 1));
    const results = await Promise.all(candidates.map((key) => store.create(typeName, "a", key)));
    const stored = await store.get(typeName, "a");
    assert.ok(stored !== null, "a key is stored");
    assert.ok(
      candidates.some((key) => sameBytes(key.keyId, stored.keyId)),
      "the stored key is one of those given",
    );
    for (const result of results) assertSameKey(result, stored);
  });

  check("delete resolves to true, then false; get is null after it", async (store) => {
    const typeName = uniqueTypeName();
    await store.create(typeName, "a", newKey(1));
    assert.equal(await store.delete(typeName, "a"), true);
    assert.equal(await store.get(typeName, "a"), null);
    assert.equal(await store.delete(typeName, "a"), false);
    assert.equal(await store.delete(typeName, "never"), false);
  });

  check("after delete, create stores the new key", async (store) => {
    const typeName = uniqueTypeName();
    await store.create(typeName, "a", newKey(1));
    await store.delete(typeName, "a");
    const second = newKey(2);
    assertSameKey(await store.create(typeName, "a", second), second);
    assertSameKey(await store.get(typeName, "a"), second);
  });

  check("type names and ids are separate keys", async (store) => {
    const first = uniqueTypeName("x");
    const second = uniqueTypeName("y");
    await store.create(first, "same", newKey(1));
    await store.create(second, "same", newKey(2));
    await store.create(first, "same.other", newKey(3));
    assertSameKey(await store.get(first, "same"), newKey(1));
    assertSameKey(await store.get(second, "same"), newKey(2));
    assertSameKey(await store.get(first, "same.other"), newKey(3));
    assert.equal(await store.get(second, "same.other"), null);
    assert.equal(await store.delete(second, "same"), true);
    assertSameKey(await store.get(first, "same"), newKey(1));
  });

  check("ids with special characters are stored exactly", async (store) => {
    const typeName = uniqueTypeName();
    const ids = ["a.b", "a*", ">", "a b", "ü", "'; --", "😀", "a=2Eb", "x".repeat(256)];
    for (const [i, id] of ids.entries()) await store.create(typeName, id, newKey(i + 1));
    for (const [i, id] of ids.entries()) {
      assertSameKey(await store.get(typeName, id), newKey(i + 1), `id ${JSON.stringify(id)}`);
    }
    assert.equal(await store.delete(typeName, "a.b"), true);
    assert.equal(await store.get(typeName, "a.b"), null);
    assertSameKey(await store.get(typeName, "a=2Eb"), newKey(8));
  });

  check(
    "changing arrays given to or returned by the store changes nothing stored",
    async (store) => {
      const typeName = uniqueTypeName();
      const given = newKey(1);
      const created = await store.create(typeName, "a", given);
      given.keyId.fill(9);
      given.key.fill(9);
      created.keyId.fill(8);
      created.key.fill(8);
      const read = await store.get(typeName, "a");
      assertSameKey(read, newKey(1));
      read!.key.fill(7);
      assertSameKey(await store.get(typeName, "a"), newKey(1));
    },
  );

  check("bad input is refused with a clear error before any write", async (store) => {
    const typeName = uniqueTypeName();
    const good = newKey(1);
    const bad: [string, () => Promise<unknown>, RegExp][] = [
      ["bad typeName", () => store.create("bad name", "a", good), /typeName/],
      ["empty id", () => store.create(typeName, "", good), /Invalid id ""/],
      ["id not a string", () => store.create(typeName, 5 as unknown as string, good), /id/],
      ["no key", () => store.create(typeName, "a", null as unknown as StoredKey), /key/],
      [
        "short keyId",
        () => store.create(typeName, "a", { keyId: new Uint8Array(15), key: good.key }),
        /keyId: 15 bytes/,
      ],
      [
        "long keyId",
        () => store.create(typeName, "a", { keyId: new Uint8Array(17), key: good.key }),
        /keyId: 17 bytes/,
      ],
      [
        "short key",
        () => store.create(typeName, "a", { keyId: good.keyId, key: new Uint8Array(15) }),
        /key\.key: 15 bytes/,
      ],
      [
        "long key",
        () => store.create(typeName, "a", { keyId: good.keyId, key: new Uint8Array(1025) }),
        /key\.key: 1025 bytes/,
      ],
      [
        "keyId not a Uint8Array",
        () => store.create(typeName, "a", { keyId: [...good.keyId], key: good.key } as never),
        /keyId: expected a Uint8Array/,
      ],
      [
        "key not a Uint8Array",
        () => store.create(typeName, "a", { keyId: good.keyId, key: "secret" } as never),
        /key\.key: expected a Uint8Array/,
      ],
      [
        "unknown option",
        () => store.create(typeName, "a", good, { signl: undefined } as never),
        /signl/,
      ],
      ["get with empty id", () => store.get(typeName, ""), /Invalid id ""/],
      ["get with bad typeName", () => store.get("a.b", "a"), /typeName/],
      ["delete with empty id", () => store.delete(typeName, ""), /Invalid id ""/],
      ["delete with bad typeName", () => store.delete("*", "a"), /typeName/],
    ];
    for (const [what, call, pattern] of bad) {
      const error = await Promise.resolve().then(call).then(() => null, (e) => e);
      assert.ok(
        error instanceof TypeError || error instanceof RangeError,
        `${what}: expected a TypeError or RangeError, got ${error}`,
      );
      assert.match(error.message, pattern, what);
    }
    assert.equal(await store.get(typeName, "a"), null, "nothing was written");
  });

  check("an aborted signal rejects with its reason and writes nothing", async (store) => {
    const typeName = uniqueTypeName();
    const signal = AbortSignal.abort(new Error("caller gave up"));
    await assert.rejects(store.create(typeName, "a", newKey(1), { signal }), /caller gave up/);
    await assert.rejects(store.get(typeName, "a", { signal }), /caller gave up/);
    assert.equal(await store.get(typeName, "a"), null, "create wrote nothing");
    await store.create(typeName, "b", newKey(2));
    await assert.rejects(store.delete(typeName, "b", { signal }), /caller gave up/);
    assertSameKey(await store.get(typeName, "b"), newKey(2), "delete deleted nothing");
  });

  check("a signal that is not aborted lets calls through", async (store) => {
    const typeName = uniqueTypeName();
    const { signal } = new AbortController();
    assertSameKey(await store.create(typeName, "a", newKey(1), { signal }), newKey(1));
    assertSameKey(await store.get(typeName, "a", { signal }), newKey(1));
    assert.equal(await store.delete(typeName, "a", { signal }), true);
  });
}

function newKey(seed: number): StoredKey {
  return { keyId: bytes(16, seed), key: bytes(32, seed * 3) };
}

function bytes(length: number, seed: number): Uint8Array {
  return new Uint8Array(length).map((_, i) => (seed * 31 + i * 7) & 0xff);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i]);
}

function assertSameKey(actual: StoredKey | null, expected: StoredKey, message?: string): void {
  assert.ok(actual !== null, message ?? "expected a key, got null");
  assert.ok(actual.keyId instanceof Uint8Array && actual.key instanceof Uint8Array, message);
  assert.deepEqual([...actual.keyId], [...expected.keyId], message);
  assert.deepEqual([...actual.key], [...expected.key], message);
}
