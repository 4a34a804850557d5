// The rebalancing decision of EntityHost on its own (a pure function): fair shares, gradual
// campaigns, one release of the least busy shard.

import { test } from "node:test";
import assert from "node:assert/strict";
import { campaignsPerTick, rebalance, shardCap } from "../adapters/nats/_rebalance.ts";

const owned = (...entries: [number, number][]) => new Map(entries);
const everyFree = () => true;
let seed = 1;
const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;

test("rebalance: a share is ceil(shards / hosts)", () => {
  assert.deepEqual([shardCap(64, 1), shardCap(64, 3), shardCap(64, 64), shardCap(4, 0)], [
    64,
    22,
    1,
    4,
  ]);
  assert.deepEqual([campaignsPerTick(64), campaignsPerTick(3), campaignsPerTick(1)], [16, 1, 1]);
});

test("rebalance: below the share a host campaigns for free shards only, at most a few at once, in random order", () => {
  const taken = new Set([0, 1, 2, 3, 4, 5]);
  const decision = rebalance({
    shards: 16,
    hosts: 2,
    owned: owned([6, 0], [7, 0]),
    free: (n) => !taken.has(n),
    maxCampaigns: 4,
    random,
  });
  assert.equal(decision.release, undefined);
  assert.equal(decision.campaign.length, 4);
  assert.equal(new Set(decision.campaign).size, 4);
  for (const n of decision.campaign) assert.ok(n >= 8 && n < 16, `${n}`);
  // Near its share it asks only for what is missing; nothing free, nothing asked.
  const near = rebalance({
    shards: 16,
    hosts: 2,
    owned: owned(...Array.from({ length: 7 }, (_, i) => [i, 0] as [number, number])),
    free: everyFree,
    maxCampaigns: 4,
    random,
  });
  assert.equal(near.campaign.length, 1);
  const none = rebalance({
    shards: 16,
    hosts: 2,
    owned: owned(),
    free: () => false,
    maxCampaigns: 4,
    random,
  });
  assert.deepEqual(none, { campaign: [], release: undefined });
});

test("rebalance: above the share a host releases one shard, the one with the fewest live entities", () => {
  const decision = rebalance({
    shards: 8,
    hosts: 2,
    owned: owned([0, 5], [1, 2], [2, 9], [3, 2], [4, 7]),
    free: everyFree,
    maxCampaigns: 4,
    random,
  });
  assert.deepEqual(decision, { campaign: [], release: 1 });
  const atShare = rebalance({
    shards: 8,
    hosts: 2,
    owned: owned([0, 5], [1, 2], [2, 9], [3, 2]),
    free: everyFree,
    maxCampaigns: 4,
    random,
  });
  assert.deepEqual(atShare, { campaign: [], release: undefined });
});
