// CommandIds, the deduplication window of an entity: after any mix of records (ids repeated
// or not, events without ids between) and ids added from before a snapshot, it finds exactly
// the ids whose last event is within the window, as a plain model of it does.

import { test } from "node:test";
import assert from "node:assert/strict";
import { CommandIds } from "../src/_command_ids.ts";

test("CommandIds finds the ids whose last event is within the window, as a model does", () => {
  let seed = 11;
  const random = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % below;
  };
  for (const window of [1, 2, 7, 64]) {
    const ids = new CommandIds(window);
    const last = new Map<string, number>(); // the model: each id's last seqNo
    let seqNo = 0;
    for (let step = 0; step < 4000; step++) {
      seqNo += 1 + (random(4) === 0 ? random(3) : 0); // some events carry no commandId
      const id = `c${random(window * 3)}`;
      ids.record(id, seqNo);
      last.set(id, seqNo);
      for (let k = 0; k < window * 3; k++) {
        const at = last.get(`c${k}`);
        const expected = at !== undefined && at > seqNo - window ? at : undefined;
        assert.equal(ids.find(`c${k}`, seqNo), expected, `c${k} at seqNo ${seqNo}`);
      }
    }
  }
});

test("CommandIds merges the ids read from before a snapshot under the ones recorded since", () => {
  const ids = new CommandIds(4, 11); // spawned from a snapshot at seqNo 10
  ids.record("b", 11);
  ids.record("c", 12);
  ids.addEarlier(new Map([["a", 9], ["b", 10]]), 9);
  assert.equal(ids.knownFrom, 9);
  assert.deepEqual(["a", "b", "c"].map((id) => ids.find(id, 12)), [9, 11, 12]);
  ids.record("d", 13); // the window at 13 is 10..13: a (9) goes
  assert.deepEqual(["a", "b", "c", "d"].map((id) => ids.find(id, 13)), [undefined, 11, 12, 13]);
  ids.record("e", 14);
  ids.record("f", 15); // the window at 15 is 12..15: b (11) goes
  assert.deepEqual(["b", "c", "e", "f"].map((id) => ids.find(id, 15)), [undefined, 12, 14, 15]);
});
