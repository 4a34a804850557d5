// RecentMap, the bounded cache of the adapters: it evicts the entry set longest ago, also
// after keys are set again, deleted and cleared, in the same order as a plain model of it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { RecentMap } from "../src/_recent_map.ts";

// The model: keys in the order they were last set, the oldest first.
class Model {
  order: string[] = [];
  values = new Map<string, number>();
  constructor(readonly capacity: number) {}
  set(key: string, value: number) {
    this.order = this.order.filter((k) => k !== key);
    this.order.push(key);
    this.values.set(key, value);
    if (this.order.length > this.capacity) this.values.delete(this.order.shift()!);
  }
  delete(key: string) {
    this.order = this.order.filter((k) => k !== key);
    return this.values.delete(key);
  }
  clear() {
    this.order = [];
    this.values.clear();
  }
}

test("RecentMap evicts the entry set longest ago, as a plain model does", () => {
  let seed = 7;
  const random = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % below;
  };
  for (const capacity of [1, 2, 5, 64]) {
    const map = new RecentMap<string, number>(capacity);
    const model = new Model(capacity);
    for (let step = 0; step < 5000; step++) {
      const key = `k${random(capacity * 3)}`;
      const roll = random(100);
      if (roll < 75) {
        map.set(key, step);
        model.set(key, step);
      } else if (roll < 97) {
        assert.equal(map.delete(key), model.delete(key));
      } else {
        map.clear();
        model.clear();
      }
      assert.equal(map.size, model.values.size, `size at step ${step}`);
      for (const k of model.order) assert.equal(map.get(k), model.values.get(k), `${k} at ${step}`);
    }
  }
});

test("RecentMap keeps evicting in order after the map was emptied by deletes", () => {
  const map = new RecentMap<string, number>(2);
  map.set("a", 1);
  map.set("b", 2);
  map.set("c", 3); // evicts a
  map.delete("b");
  map.delete("c");
  map.set("d", 4);
  map.set("e", 5);
  map.set("f", 6); // evicts d
  assert.deepEqual(["a", "b", "c", "d", "e", "f"].map((k) => map.get(k)), [
    undefined,
    undefined,
    undefined,
    undefined,
    5,
    6,
  ]);
});
