// A restart of nats-server in the middle of a load run: commands fail (bounded by the log's
// timeout) while the server is away and succeed again after it returns; every command that got
// a successful reply has its event in the log, and the entities go on from where they were.
// Always starts its own server, since it has to stop and start it.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  type Command,
  type CommandEffect,
  emitAndReply,
  type EntityRef,
  type EventSourced,
  isHandleCommandError,
  isStorageError,
  jsonBinarize,
  spawn,
} from "../mod.ts";
import { collect, uniqueTypeName, within } from "../testing/mod.ts";
import { NatsEventLog, NatsSnapshotStore } from "../adapters/nats/mod.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";

let server: NatsTestServer;

before(async () => {
  server = await startNatsServer({ own: true });
});

after(async () => {
  await server?.dispose();
});

type Event = { by: number; command: number };
const counter = (typeName: string): EventSourced<number, Event> => ({
  typeName,
  initialState: 0,
  handleEvent: (state, event) => state + event.by,
});
const increase = (command: number): Command<number, Event, number, never> => ({
  handleCommand: (_id, _state): CommandEffect<number, Event, number, never> =>
    emitAndReply({ by: 1, command }, (state) => state),
});

const ENTITIES = 8;
const BEFORE_STOP = 120;
const AFTER_START_PER_ENTITY = 25;
const LIMIT = 5_000;

async function waitFor(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1_200 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.ok(condition(), `timed out waiting for ${what}`);
}

test(
  "NatsEventLog: a nats-server restart during a load run loses no acknowledged event and the entities go on",
  { timeout: 120_000 },
  async () => {
    const eventLog = await NatsEventLog.connect({ servers: server.wsUrl, timeout: 1_000 });
    const snapshotStore = new NatsSnapshotStore(eventLog.connection, { timeout: 1_000 });
    await eventLog.setup();
    await snapshotStore.setup();
    const entity = counter(uniqueTypeName("counter"));
    const binarize = jsonBinarize<Event, number>();
    // Snapshot saves fail while the server is away; they are reported here, never fatal.
    const snapshotErrors: Error[] = [];
    const onError = (error: Error) => void snapshotErrors.push(error);
    const options = { eventLog, snapshotStore, snapshotAfter: 10, binarize, onError };
    const refs: EntityRef<number, Event>[] = [];
    for (let i = 0; i < ENTITIES; i++) refs.push(await spawn(entity, `e${i}`, options));

    const acknowledged = refs.map(() => new Set<number>());
    const replies = refs.map(() => [] as number[]);
    const failures = refs.map(() => [] as unknown[]);
    const afterStart = refs.map(() => 0);
    let phase: "before" | "down" | "up" = "before";
    let nextCommand = 1;
    let total = 0;
    let stopped = false;

    const worker = async (index: number) => {
      const ref = refs[index]!;
      for (let sent = 0; sent < LIMIT && !stopped; sent++) {
        const command = nextCommand++;
        const during = phase;
        try {
          const result = await ref.handleCommand(increase(command));
          assert.ok(result.ok);
          acknowledged[index]!.add(command);
          replies[index]!.push(result.value);
          total++;
          if (during === "up") afterStart[index]!++;
        } catch (error) {
          failures[index]!.push(error);
          assert.ok(isHandleCommandError(error), `expected HandleCommandError, got ${error}`);
          if (phase === "before") throw error;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        if (afterStart.every((n) => n >= AFTER_START_PER_ENTITY)) return;
      }
    };

    const workers = Promise.all(refs.map((_, i) => worker(i)));
    try {
      await waitFor("the first acknowledged commands", () => total >= BEFORE_STOP);
      const failedBefore = failures.map((f) => f.length);
      phase = "down";
      await server.stop();
      // While the server is away every entity's commands fail, each within the timeout.
      await waitFor(
        "a failed command on every entity",
        () => failures.every((f, i) => f.length > failedBefore[i]!),
      );
      await server.start();
      phase = "up";
      await waitFor(
        "commands that succeed after the restart",
        () => afterStart.every((n) => n >= AFTER_START_PER_ENTITY),
      );
    } finally {
      stopped = true;
      await workers;
    }

    for (const errors of failures) {
      for (const error of errors) {
        assert.ok(isHandleCommandError(error));
        assert.ok(
          error.reason === "persist-failed" || error.reason === "persist-outcome-unknown" ||
            error.reason === "resync-failed",
          `unexpected reason ${error.reason}`,
        );
      }
    }

    // A fresh log on its own connection reads back what the server kept.
    const reader = await NatsEventLog.connect({ servers: server.wsUrl });
    try {
      for (const [i, ref] of refs.entries()) {
        const events = await collect(reader.eventsById(entity.typeName, ref.id, 1));
        assert.deepEqual(events.map((e) => e.seqNo), events.map((_, n) => n + 1), "dense seqNos");
        const logged = new Set(events.map((e) => binarize.eventFromBytes(e.bytes).command));
        for (const command of acknowledged[i]!) {
          assert.ok(
            logged.has(command),
            `acknowledged command ${command} of ${ref.id} is in the log`,
          );
        }
        // Replies count up with the log: the entity went on from where it was.
        const ownReplies = replies[i]!;
        for (let r = 1; r < ownReplies.length; r++) assert.ok(ownReplies[r]! > ownReplies[r - 1]!);
        assert.ok(ownReplies.at(-1)! <= events.length);
        await ref.stop();
        const respawned = await spawn(entity, ref.id, options);
        const result = await respawned.handleCommand(increase(0));
        assert.ok(result.ok);
        assert.equal(result.value, events.length + 1);
        await respawned.stop();
      }
    } finally {
      await reader.close();
      await eventLog.close();
    }
  },
);

// How long a live read may take to deliver an event written after the server is back: reads
// resume within about one pull expiry (4 s), so this bound only catches a read that never resumes.

const LIVE_RESUME_BOUND_MS = 20_000;

test(
  "NatsEventLog: a live read goes on across a nats-server restart within seconds",
  { timeout: 120_000 },
  async () => {
    const log = await NatsEventLog.connect({ servers: server.wsUrl, timeout: 1_000 });
    try {
      await log.setup();
      const typeName = uniqueTypeName();
      await log.persist(typeName, "a", null, [new Uint8Array([1])]);
      const reader = log.eventsByType(typeName, 0, { live: true }).getReader();
      const byId = log.eventsById(typeName, "a", 1, { live: true }).getReader();
      assert.deepEqual([...(await reader.read()).value!.bytes], [1]);
      assert.deepEqual([...(await byId.read()).value!.bytes], [1]);
      await server.stop();
      await server.start();
      const back = Date.now();
      // Writes fail until the connection is back; the one that lands is seqNo 2.
      let written = false;
      for (let attempt = 0; attempt < 100 && !written; attempt++) {
        try {
          const last = await log.lastSeqNo(typeName, "a");
          await log.persist(typeName, "a", last, [new Uint8Array([2])]);
          written = true;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      assert.ok(written, "a write succeeds after the restart");
      const next = await within(reader.read(), LIVE_RESUME_BOUND_MS, "the live read by type");
      assert.deepEqual([...next.value!.bytes], [2]);
      const nextById = await within(byId.read(), LIVE_RESUME_BOUND_MS, "the live read by id");
      assert.deepEqual([...nextById.value!.bytes], [2]);
      console.log(`live reads resumed ${Date.now() - back} ms after nats-server was back`);
      await reader.cancel();
      await byId.cancel();
    } finally {
      await log.close();
    }
  },
);

test(
  "NatsEventLog: a live read resumes within seconds when JetStream comes back after the server",
  { timeout: 120_000 },
  async () => {
    const log = await NatsEventLog.connect({ servers: server.wsUrl, timeout: 1_000 });
    try {
      await log.setup();
      const typeName = uniqueTypeName();
      await log.persist(typeName, "a", null, [new Uint8Array([1])]);
      const reader = log.eventsByType(typeName, 0, { live: true }).getReader();
      assert.deepEqual([...(await reader.read()).value!.bytes], [1]);
      const pending = reader.read();
      // The server returns first without JetStream (as a cluster does until it has elected its
      // JetStream leader): the read's first check of its consumer fails.
      await server.stop();
      await server.start({ jetStream: false });
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await server.stop();
      await server.start();
      const back = Date.now();
      let written = false;
      for (let attempt = 0; attempt < 100 && !written; attempt++) {
        try {
          await log.persist(typeName, "a", 1, [new Uint8Array([2])]);
          written = true;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      assert.ok(written, "a write succeeds after the restart");
      const next = await within(pending, LIVE_RESUME_BOUND_MS, "the live read by type");
      assert.deepEqual([...next.value!.bytes], [2]);
      console.log(`live read resumed ${Date.now() - back} ms after JetStream was back`);
      await reader.cancel();
    } finally {
      await log.close();
    }
  },
);

test(
  "NatsEventLog: while the server is away a read times out and a sent persist's outcome is unknown",
  { timeout: 60_000 },
  async () => {
    const log = await NatsEventLog.connect({ servers: server.wsUrl, timeout: 500 });
    try {
      await log.setup();
      const typeName = uniqueTypeName();
      assert.equal(await log.persist(typeName, "a", null, [new Uint8Array([1])]), 1);
      await server.stop();
      try {
        const read = await log.lastSeqNo(typeName, "a").catch((e) => e);
        assert.ok(isStorageError(read) && read.reason === "timeout", `${read}`);
        // The head is known, so the persist is sent at once (the client queues it until it is
        // back): its outcome is unknown, never "not written".
        const write = await log.persist(typeName, "a", 1, [new Uint8Array([2])]).catch((e) => e);
        assert.ok(isStorageError(write) && write.reason === "outcome-unknown", `${write}`);
        // A persist that needs a lookup first fails at the lookup: nothing was sent.
        const lookup = await log.persist(typeName, "b", 3, [new Uint8Array([1])]).catch((e) => e);
        assert.ok(isStorageError(lookup) && lookup.reason === "timeout", `${lookup}`);
        assert.match(lookup.message, /nothing was written/);
      } finally {
        await server.start();
      }
    } finally {
      await log.close();
    }
  },
);
