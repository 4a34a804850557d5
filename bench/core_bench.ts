// Hot paths of the core for `deno bench`, each group with a baseline doing the same bare work.
//
//   deno bench -A bench/core_bench.ts

import { emitAndReply, jsonBinarize, MemoryEventLog, reject, spawn } from "../mod.ts";

type Event = { type: "increased"; by: number };
const counter = {
  typeName: "counter",
  initialState: 0,
  handleEvent: (state: number, event: Event) => state + event.by,
};
const increase = {
  handleCommand: (_id: string, state: number) =>
    state >= Number.MAX_SAFE_INTEGER
      ? reject("Overflow")
      : emitAndReply<number, Event, number>({ type: "increased", by: 1 }, (s) => s),
};
const binarize = jsonBinarize<Event, number>();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const ref = await spawn(counter, "bench", { eventLog: new MemoryEventLog(), binarize });
const stored = new Map<number, Uint8Array>();
let baselineState = 0;

Deno.bench({
  group: "command",
  name: "bare loop: JSON encode, Map write, apply",
  baseline: true,
  fn: () => {
    const event: Event = { type: "increased", by: 1 };
    stored.set(baselineState, encoder.encode(JSON.stringify(event)));
    baselineState = counter.handleEvent(baselineState, event);
  },
});

Deno.bench({
  group: "command",
  name: "EntityRef.handleCommand on MemoryEventLog",
  fn: async () => {
    await ref.handleCommand(increase);
  },
});

const replayLog = new MemoryEventLog();
const REPLAY = 10_000;
const replayBytes = Array.from(
  { length: REPLAY },
  () => binarize.eventToBytes({ type: "increased", by: 1 }),
);
await replayLog.persist("counter", "replay", null, replayBytes);

Deno.bench({
  group: "replay 10k events",
  name: "bare loop: JSON decode, apply",
  baseline: true,
  fn: () => {
    let state = 0;
    for (const bytes of replayBytes) {
      state = counter.handleEvent(state, JSON.parse(decoder.decode(bytes)));
    }
    if (state !== REPLAY) throw new Error("miscounted");
  },
});

Deno.bench({
  group: "replay 10k events",
  name: "spawn from MemoryEventLog",
  fn: async () => {
    const replayed = await spawn(counter, "replay", { eventLog: replayLog, binarize });
    await replayed.stop();
  },
});

// Version-1 events ({ kind: "increase", by }) read by a version-3 codec: two upcasters, each
// building a new object (see bench/core.ts).
type EventV2 = { type: "increase"; by: number };
const versioned = jsonBinarize<Event, number>({
  version: 3,
  upcast: {
    1: ({ by }: { kind: "increase"; by: number }): EventV2 => ({ type: "increase", by }),
    2: ({ by }: EventV2): Event => ({ type: "increased", by }),
  },
});
const v1Log = new MemoryEventLog();
const v1Bytes = binarize.eventToBytes({ kind: "increase", by: 1 } as unknown as Event);
await v1Log.persist("counter", "replay", null, Array.from({ length: REPLAY }, () => v1Bytes));

Deno.bench({
  group: "replay 10k events",
  name: "spawn from MemoryEventLog, v1 events through 2 upcasters",
  fn: async () => {
    const replayed = await spawn(counter, "replay", { eventLog: v1Log, binarize: versioned });
    await replayed.stop();
  },
});

const event: Event = { type: "increased", by: 1 };
const eventBytes = binarize.eventToBytes(event);

Deno.bench({
  group: "codec",
  name: "TextEncoder + JSON.stringify",
  baseline: true,
  fn: () => {
    encoder.encode(JSON.stringify(event));
  },
});

Deno.bench({
  group: "codec",
  name: "jsonBinarize().eventToBytes",
  fn: () => void binarize.eventToBytes(event),
});

Deno.bench({
  group: "decode",
  name: "TextDecoder + JSON.parse",
  baseline: true,
  fn: () => void JSON.parse(decoder.decode(eventBytes)),
});

Deno.bench({
  group: "decode",
  name: "jsonBinarize().eventFromBytes",
  fn: () => void binarize.eventFromBytes(eventBytes),
});

Deno.bench({
  group: "decode",
  name: "jsonBinarize({ version: 3, upcast }).eventFromBytes, current version",
  fn: () => void versioned.eventFromBytes(eventBytes, 3),
});

Deno.bench({
  group: "decode",
  name: "jsonBinarize({ version: 3, upcast }).eventFromBytes, v1 through 2 upcasters",
  fn: () => void versioned.eventFromBytes(v1Bytes, 1),
});
