// Shared by the copy tests: a store filled with what a copy must keep (several types, metadata,
// versions, snapshots, interleaved entities), its full contents read back for comparison, and
// a StoreAdmin wrapped to interfere with importEvents.

import assert from "node:assert/strict";
import type { PersistedEvent } from "../mod.ts";
import type { StoreAdmin, StoredSnapshot } from "../admin/mod.ts";

/** What a store holds, per type: its events in position order and its latest snapshots. */
export interface Contents {
  readonly events: Map<string, PersistedEvent[]>;
  readonly snapshots: Map<string, StoredSnapshot[]>;
}

const encoder = new TextEncoder();

/**
 * Fills `admin` through its event log and snapshot store: for each type of `typeNames`,
 * `entities` entities written round-robin so their events interleave, `perEntity` events each.
 */
export async function fillStore(
  admin: StoreAdmin,
  typeNames: readonly string[],
  entities = 5,
  perEntity = 6,
): Promise<number> {
  let total = 0;
  for (const typeName of typeNames) {
    for (let round = 0; round < perEntity; round += 2) {
      for (let e = 0; e < entities; e++) {
        const id = `entity-${e}${e === 2 ? "-é✓" : ""}`;
        const events = [0, 1].map((k) =>
          encoder.encode(JSON.stringify({ typeName, e, seqNo: round + k + 1 }))
        );
        await admin.eventLog.persist(typeName, id, round === 0 ? null : round, events, {
          version: 1 + (round % 3),
          metadata: round === 2
            ? {
              commandId: `c-${e}-${round}`,
              correlationId: "corr",
              headers: { user: "ada", b: "2" },
            }
            : round === 4
            ? { causationId: `cause-${e}` }
            : {},
        });
        total += 2;
      }
    }
    for (let e = 0; e < entities; e += 2) {
      const id = `entity-${e}${e === 2 ? "-é✓" : ""}`;
      await admin.snapshotStore.save(typeName, id, 4, encoder.encode(`state-${e}`), { version: 2 });
    }
  }
  return total;
}

/** Everything `admin` holds of `typeNames`. */
export async function readContents(
  admin: StoreAdmin,
  typeNames: readonly string[],
): Promise<Contents> {
  const events = new Map<string, PersistedEvent[]>();
  const snapshots = new Map<string, StoredSnapshot[]>();
  for (const typeName of typeNames) {
    const list: PersistedEvent[] = [];
    for await (const event of admin.eventLog.eventsByType(typeName, 1)) list.push(event);
    events.set(typeName, list);
    const kept: StoredSnapshot[] = [];
    for await (const snapshot of admin.snapshots(typeName)) kept.push(snapshot);
    snapshots.set(typeName, kept);
  }
  return { events, snapshots };
}

function comparable(event: PersistedEvent, withPosition: boolean): unknown {
  return {
    typeName: event.typeName,
    id: event.id,
    seqNo: event.seqNo,
    version: event.version,
    writtenAt: event.writtenAt,
    metadata: event.metadata,
    bytes: [...event.bytes],
    ...(withPosition ? { position: event.position } : {}),
  };
}

/**
 * Asserts that `target` holds what `source` held: the same events in the same order with the
 * same fields (positions too when `withPosition`), and the same snapshots; with `dense`, the
 * target's positions are 1, 2, 3 … per type.
 */
export function assertSameContents(
  source: Contents,
  target: Contents,
  withPosition: boolean,
  dense = false,
): void {
  assert.deepEqual([...target.events.keys()], [...source.events.keys()]);
  for (const [typeName, events] of source.events) {
    const copied = target.events.get(typeName)!;
    assert.equal(copied.length, events.length, `events of ${typeName}`);
    assert.deepEqual(
      copied.map((e) => comparable(e, withPosition)),
      events.map((e) => comparable(e, withPosition)),
    );
    for (let i = 1; i < copied.length; i++) {
      assert.ok(copied[i]!.position > copied[i - 1]!.position, "positions rise");
    }
    if (dense) {
      assert.deepEqual(copied.map((e) => e.position), copied.map((_, i) => i + 1), "1, 2, 3 …");
    }
  }
  for (const [typeName, snapshots] of source.snapshots) {
    const copied = target.snapshots.get(typeName)!;
    assert.deepEqual(
      copied.map((s) => ({ ...s, bytes: [...s.bytes] })),
      snapshots.map((s) => ({ ...s, bytes: [...s.bytes] })),
    );
    assert.ok(snapshots.length > 0, `snapshots of ${typeName}`);
  }
}

/**
 * Asserts that `target` holds what `source` holds of `typeNames`: positions too where both keep
 * them, and 1, 2, 3 … where the target keeps them (a copy from NATS numbers them anew).
 */
export async function assertCopied(
  source: StoreAdmin,
  target: StoreAdmin,
  typeNames: readonly string[],
): Promise<void> {
  assertSameContents(
    await readContents(source, typeNames),
    await readContents(target, typeNames),
    source.keepsPositions && target.keepsPositions,
    target.keepsPositions,
  );
}

/** `admin` with its importEvents replaced by `importEvents(original, events, options)`. */
export function withImport(
  admin: StoreAdmin,
  importEvents: (
    original: StoreAdmin["importEvents"],
    ...args: Parameters<StoreAdmin["importEvents"]>
  ) => Promise<void>,
): StoreAdmin {
  const original = admin.importEvents.bind(admin);
  return new Proxy(admin, {
    get(target, key) {
      if (key === "importEvents") {
        return (...args: Parameters<StoreAdmin["importEvents"]>) => importEvents(original, ...args);
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** How many events of each type `admin` holds, by type name. */
export async function eventCounts(admin: StoreAdmin): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const type of await admin.entityTypes()) counts[type.typeName] = type.events;
  return counts;
}

let tables = 0;

/** Opens a set-up store in tables of its own (a fresh prefix) of an SQL database. */
export async function freshTables<Admin extends StoreAdmin>(
  open: (options: { tablePrefix: string }) => Admin,
): Promise<Admin> {
  const admin = open({ tablePrefix: `copy${++tables}_` });
  await admin.setup();
  return admin;
}
