// Which shards of one entity type a host campaigns for and which one it gives up, decided from
// its view alone (no coordinator): with n hosts serving the type, none should own more than
// cap = ceil(shards / n). Below cap a host campaigns for shards nobody holds, a few per tick,
// so hosts that start together split the shards instead of the first taking all; above cap it
// releases one shard at a time, the one with the fewest live entities, so a joining host gets
// its share gradually and every other shard stays where it is.

/** What one rebalancing decision of one type looks at. */
export interface RebalanceInput {
  /** Shards of the type. */
  readonly shards: number;
  /** Hosts serving the type, this one included (at least 1). */
  readonly hosts: number;
  /** Shards this host serves (not those it is releasing), with their live entity counts. */
  readonly owned: ReadonlyMap<number, number>;
  /** Whether shard `n` may be campaigned for: nobody holds it, no backoff, not closing here. */
  readonly free: (shard: number) => boolean;
  /** Most campaigns to start in one decision. */
  readonly maxCampaigns: number;
  /** Random numbers in [0, 1), for the order of campaigns. */
  readonly random: () => number;
}

/** What to do now. */
export interface RebalanceDecision {
  /** Shards to campaign for. */
  readonly campaign: readonly number[];
  /** A shard to release, if this host owns more than its share. */
  readonly release: number | undefined;
}

/** The fair share of one host: ceil(shards / hosts). */
export function shardCap(shards: number, hosts: number): number {
  return Math.ceil(shards / Math.max(1, hosts));
}

/** How many campaigns a host starts in one tick: a quarter of the shards, at least one. */
export function campaignsPerTick(shards: number): number {
  return Math.max(1, Math.ceil(shards / 4));
}

/** Decides the campaigns and the release of one tick. */
export function rebalance(input: RebalanceInput): RebalanceDecision {
  const cap = shardCap(input.shards, input.hosts);
  const own = input.owned.size;
  if (own > cap) {
    let release: number | undefined;
    let fewest = Infinity;
    for (const [shard, entities] of input.owned) {
      if (entities < fewest || (entities === fewest && shard < release!)) {
        release = shard;
        fewest = entities;
      }
    }
    return { campaign: [], release };
  }
  const wanted = Math.min(cap - own, input.maxCampaigns);
  if (wanted <= 0) return { campaign: [], release: undefined };
  const candidates: number[] = [];
  for (let shard = 0; shard < input.shards; shard++) {
    if (!input.owned.has(shard) && input.free(shard)) candidates.push(shard);
  }
  // A partial Fisher-Yates shuffle: the first `wanted` places get random candidates.
  const take = Math.min(wanted, candidates.length);
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(input.random() * (candidates.length - i));
    [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
  }
  return { campaign: candidates.slice(0, take), release: undefined };
}
