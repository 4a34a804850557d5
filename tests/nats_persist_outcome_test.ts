// A persist whose publish was sent is never reported as failed: aborting a command's signal or
// closing the connection while publishes are in flight leaves each command either acknowledged
// (its event is in the log), refused before sending (its event is not), or of unknown outcome
// (either). Checked against the log afterwards, on a real nats-server.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  type Command,
  emitAndReply,
  type EntityRef,
  type EventSourced,
  isHandleCommandError,
  isStorageError,
  jsonBinarize,
  spawn,
} from "../mod.ts";
import { collect, uniqueTypeName } from "../testing/mod.ts";
import { NatsEventLog } from "../adapters/nats/mod.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";

let server: NatsTestServer;

before(async () => {
  server = await startNatsServer();
  const log = await NatsEventLog.connect({ servers: server.wsUrl });
  try {
    await log.setup();
  } finally {
    await log.close();
  }
});

after(async () => {
  await server?.dispose();
});

type Event = { command: number };
const entityOf = (typeName: string): EventSourced<number, Event> => ({
  typeName,
  initialState: 0,
  handleEvent: (state) => state + 1,
});
const record = (command: number): Command<number, Event, number, never> => ({
  handleCommand: () => emitAndReply({ command }, (state) => state),
});

type Outcome = "acknowledged" | "not-written" | "unknown";

// How a command ended, as the caller sees it: only an outcome-unknown persist may be either.
function outcomeOf(error: unknown): Outcome {
  assert.ok(isHandleCommandError(error), `expected a HandleCommandError, got ${error}`);
  const cause = error.cause;
  if (
    error.reason === "persist-outcome-unknown" ||
    (isStorageError(cause) && cause.reason === "outcome-unknown")
  ) {
    return "unknown";
  }
  return "not-written";
}

async function commandsInLog(log: NatsEventLog, typeName: string): Promise<Set<number>> {
  const events = await collect(log.eventsByType(typeName, 0));
  return new Set(
    events.map((e) => (JSON.parse(new TextDecoder().decode(e.bytes)) as Event).command),
  );
}

function assertOutcomes(outcomes: Map<number, Outcome>, inLog: Set<number>): void {
  for (const [command, outcome] of outcomes) {
    if (outcome === "acknowledged") {
      assert.ok(inLog.has(command), `command ${command} was acknowledged but is not in the log`);
    } else if (outcome === "not-written") {
      assert.ok(
        !inLog.has(command),
        `command ${command} was reported as not written but is in the log`,
      );
    }
  }
}

const ENTITIES = 10;
const COMMANDS_PER_ENTITY = 20;

test("NatsEventLog: a command whose signal aborts while its publish is in flight is never reported as not written when it was", async () => {
  const log = await NatsEventLog.connect({ servers: server.wsUrl });
  try {
    const typeName = uniqueTypeName("abort");
    const binarize = jsonBinarize<Event, number>();
    const refs: EntityRef<number, Event>[] = [];
    for (let i = 0; i < ENTITIES; i++) {
      refs.push(await spawn(entityOf(typeName), `e${i}`, { eventLog: log, binarize }));
    }
    const outcomes = new Map<number, Outcome>();
    let next = 1;
    // Random abort moments, from before the command runs to well after its publish is sent.
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    await Promise.all(refs.map(async (ref) => {
      for (let i = 0; i < COMMANDS_PER_ENTITY; i++) {
        const command = next++;
        const controller = new AbortController();
        const delay = Math.floor(random() * 4);
        const timer = setTimeout(() => controller.abort(new Error("gave up")), delay);
        const roll = random();
        if (roll < 0.1) controller.abort(new Error("gave up early"));
        else if (roll < 0.4) queueMicrotask(() => controller.abort(new Error("gave up")));
        try {
          await ref.handleCommand(record(command), { signal: controller.signal });
          outcomes.set(command, "acknowledged");
        } catch (error) {
          outcomes.set(command, outcomeOf(error));
        } finally {
          clearTimeout(timer);
        }
      }
    }));
    const inLog = await commandsInLog(log, typeName);
    assertOutcomes(outcomes, inLog);
    const counts = [...outcomes.values()].reduce(
      (sum, o) => ({ ...sum, [o]: (sum[o] ?? 0) + 1 }),
      {} as Record<string, number>,
    );
    // The run exercised aborts: some commands were stopped, some went through.
    assert.ok((counts["not-written"] ?? 0) > 0, JSON.stringify(counts));
    assert.ok((counts["acknowledged"] ?? 0) > 0, JSON.stringify(counts));
    for (const ref of refs) await ref.stop();
  } finally {
    await log.close();
  }
});

// Many entities with a persist each in flight when the connection closes.
const CLOSE_ENTITIES = 100;
const CLOSE_COMMANDS_PER_ENTITY = 4;
const CLOSE_AFTER = 150;

test("NatsEventLog: closing the connection with persists in flight reports none as not written that was", async () => {
  const log = await NatsEventLog.connect({ servers: server.wsUrl });
  const typeName = uniqueTypeName("close");
  const outcomes = new Map<number, Outcome>();
  try {
    const binarize = jsonBinarize<Event, number>();
    const refs: EntityRef<number, Event>[] = [];
    for (let i = 0; i < CLOSE_ENTITIES; i++) {
      refs.push(await spawn(entityOf(typeName), `e${i}`, { eventLog: log, binarize }));
    }
    let next = 1;
    let acknowledged = 0;
    let closing: Promise<void> | undefined;
    await Promise.all(refs.map(async (ref) => {
      for (let i = 0; i < CLOSE_COMMANDS_PER_ENTITY; i++) {
        const command = next++;
        try {
          await ref.handleCommand(record(command));
          outcomes.set(command, "acknowledged");
          // Close once the load runs, with the other entities' publishes in flight.
          if (++acknowledged === CLOSE_AFTER) closing = log.close();
        } catch (error) {
          outcomes.set(command, outcomeOf(error));
        }
      }
    }));
    await closing;
    assert.ok(closing !== undefined, "the load ended before the connection was closed");
    for (const ref of refs) await ref.stop();
  } finally {
    await log.close();
  }
  const reader = await NatsEventLog.connect({ servers: server.wsUrl });
  try {
    const inLog = await commandsInLog(reader, typeName);
    assertOutcomes(outcomes, inLog);
    assert.ok([...outcomes.values()].includes("not-written"), "no command failed after close");
  } finally {
    await reader.close();
  }
});
