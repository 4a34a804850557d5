import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Binarize,
  EventReader,
  isDecodeError,
  isSpawnError,
  jsonBinarize,
  MemoryEventLog,
  MemorySnapshotStore,
  spawn,
} from "../mod.ts";
import { collect } from "../testing/mod.ts";
import { counter, type CounterEvent, get, increase } from "./_counter.ts";

const json = jsonBinarize<CounterEvent, number>();

// A codec at event version 2 and state version 2 that records the versions it was asked for.
function versioned(eventVersion: number, stateVersion: number) {
  const asked: { events: (number | undefined)[]; states: (number | undefined)[] } = {
    events: [],
    states: [],
  };
  const binarize: Binarize<CounterEvent, number> = {
    eventVersion,
    stateVersion,
    eventToBytes: (event) => json.eventToBytes(event),
    eventFromBytes: (bytes, version) => {
      asked.events.push(version);
      return json.eventFromBytes(bytes);
    },
    stateToBytes: (state) => json.stateToBytes(state),
    stateFromBytes: (bytes, version) => {
      asked.states.push(version);
      if (version !== stateVersion) throw new Error(`state version ${version} is not read`);
      return json.stateFromBytes(bytes);
    },
  };
  return { binarize, asked };
}

test("events and snapshots are stored with the codec's versions and decoded by them", async () => {
  const eventLog = new MemoryEventLog();
  const snapshotStore = new MemorySnapshotStore();
  const old = await spawn(counter, "a", { eventLog, binarize: json });
  await old.handleCommand(increase(1));
  await old.stop();
  const { binarize, asked } = versioned(2, 3);
  const ref = await spawn(counter, "a", { eventLog, binarize, snapshotStore, snapshotAfter: 2 });
  await ref.handleCommand(increase(2));
  await ref.stop();
  const events = await collect(eventLog.eventsById("counter", "a", 1));
  assert.deepEqual(events.map((e) => e.version), [1, 2]);
  assert.deepEqual(asked.events, [1]);
  assert.equal((await snapshotStore.load("counter", "a"))?.version, 3);
  const again = await spawn(counter, "a", { eventLog, binarize, snapshotStore });
  assert.deepEqual(asked.states, [3]);
  assert.deepEqual(await again.handleCommand(get), { ok: true, value: 3 });
  await again.stop();
});

test("an event newer than the codec is refused with a DecodeError naming the version", async () => {
  const eventLog = new MemoryEventLog();
  const newer = versioned(4, 1).binarize;
  const ref = await spawn(counter, "a", { eventLog, binarize: newer });
  await ref.handleCommand(increase(1));
  await ref.stop();
  const error = await spawn(counter, "a", { eventLog, binarize: versioned(3, 1).binarize })
    .catch((e) => e);
  assert.ok(isSpawnError(error));
  assert.ok(isDecodeError(error.cause));
  assert.equal(error.cause.version, 4);
  assert.match(error.message, /version 4, newer than version 3/);
  // Plain codecs (version 1) refuse it too, and so does the reader.
  await assert.rejects(
    collect(new EventReader(counter, { eventLog, binarize: json }).eventsByType()),
    (e: Error) => isDecodeError(e) && /version 4, newer than version 1/.test(e.message),
  );
});

test("a snapshot the code cannot read is passed over: replay from the first event, onError told", async () => {
  const eventLog = new MemoryEventLog();
  const snapshotStore = new MemorySnapshotStore();
  const writer = await spawn(counter, "a", {
    eventLog,
    binarize: versioned(1, 1).binarize,
    snapshotStore,
    snapshotAfter: 2,
  });
  for (let i = 0; i < 5; i++) await writer.handleCommand(increase(1));
  await writer.stop();
  assert.deepEqual(
    [
      (await snapshotStore.load("counter", "a"))?.version,
      (await snapshotStore.load("counter", "a"))?.seqNo,
    ],
    [1, 4],
  );
  const errors: Error[] = [];
  const newCode = versioned(1, 2).binarize;
  const ref = await spawn(counter, "a", {
    eventLog,
    binarize: newCode,
    snapshotStore,
    onError: (e) => errors.push(e),
  });
  assert.deepEqual(await ref.handleCommand(get), { ok: true, value: 5 });
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /Passed over the snapshot of "counter\/a"/);
  assert.ok(isDecodeError(errors[0]!.cause));
  assert.match(String((errors[0]!.cause as Error).message), /state version 1 is not read/);
  await ref.stop();
  // Damaged bytes are passed over the same way.
  await snapshotStore.save("counter", "a", 5, new Uint8Array([0xff]));
  const damaged: Error[] = [];
  const again = await spawn(counter, "a", {
    eventLog,
    binarize: json,
    snapshotStore,
    onError: (e) => damaged.push(e),
  });
  assert.deepEqual(await again.handleCommand(get), { ok: true, value: 5 });
  assert.equal(damaged.length, 1);
  await again.stop();
});

test("a codec whose versions are not integers from 1 is refused at spawn", async () => {
  for (const [eventVersion, stateVersion] of [[0, 1], [1, 1.5], [2 ** 31, 1]]) {
    await assert.rejects(
      spawn(counter, "a", {
        eventLog: new MemoryEventLog(),
        binarize: versioned(eventVersion!, stateVersion!).binarize,
      }),
      /binarize\.(event|state)Version/,
    );
  }
});

test("a snapshot newer than the codec is passed over too", async () => {
  const eventLog = new MemoryEventLog();
  const snapshotStore = new MemorySnapshotStore();
  const ref = await spawn(counter, "a", { eventLog, binarize: json });
  await ref.handleCommand(increase(2));
  await ref.stop();
  await snapshotStore.save("counter", "a", 1, json.stateToBytes(999), { version: 9 });
  const errors: Error[] = [];
  const again = await spawn(counter, "a", {
    eventLog,
    binarize: json,
    snapshotStore,
    onError: (e) => errors.push(e),
  });
  assert.deepEqual(await again.handleCommand(get), { ok: true, value: 2 });
  assert.match(String((errors[0]?.cause as Error)?.message), /version 9, newer than version 1/);
  await again.stop();
});
