import {
  type Command,
  emit,
  emitAndReply,
  EntityRegistry,
  type EventMetadata,
  EventReader,
  type EventSourced,
  jsonBinarize,
  MemoryEventLog,
} from "../../mod.ts";
import assert from "node:assert/strict";

type OrderEvent = { type: "placed"; item: string };
const order: EventSourced<string, OrderEvent> = {
  typeName: "order",
  initialState: "",
  handleEvent: (_state, event) => event.item,
};
type ShelfEvent = { type: "reserved"; order: string };
const shelf: EventSourced<string[], ShelfEvent> = {
  typeName: "shelf",
  initialState: [],
  handleEvent: (orders, event) => [...orders, event.order],
};

// A handler gets the command's metadata as its third argument. This one replies with the
// metadata of the step that follows: the same correlation, caused by this command.
const place = (item: string): Command<string, OrderEvent, EventMetadata, never> => ({
  handleCommand: (id, _state, metadata) =>
    emitAndReply({ type: "placed", item }, () => ({
      correlationId: metadata.correlationId ?? id,
      ...(metadata.commandId === undefined ? {} : { causationId: metadata.commandId }),
    })),
});
const reserve = (orderId: string): Command<string[], ShelfEvent, undefined, never> => ({
  handleCommand: () => emit({ type: "reserved", order: orderId }),
});

const eventLog = new MemoryEventLog();
const orders = new EntityRegistry(order, { eventLog, binarize: jsonBinarize() });
const shelves = new EntityRegistry(shelf, { eventLog, binarize: jsonBinarize() });

// Every event the command emits is stored with its metadata.
const placed = await orders.handleCommand("o-1", place("book"), {
  metadata: { commandId: "o-1:place", correlationId: "o-1", headers: { user: "ada" } },
});
assert.ok(placed.ok);
const next = placed.value; // { correlationId: "o-1", causationId: "o-1:place" }
await shelves.handleCommand("book", reserve("o-1"), {
  metadata: { ...next, commandId: "o-1:reserve" },
});

// Every read returns it, with the event's version and when it was written.
const reader = new EventReader(shelf, { eventLog, binarize: jsonBinarize() });
for await (const { seqNo, event, version, writtenAt, metadata } of reader.eventsById("book")) {
  assert.deepEqual([seqNo, event, version], [1, { type: "reserved", order: "o-1" }, 1]);
  assert.ok(Math.abs(writtenAt - Date.now()) < 60_000); // ms since the epoch, the store's clock
  assert.deepEqual(metadata, {
    commandId: "o-1:reserve",
    correlationId: "o-1",
    causationId: "o-1:place",
  });
}

// Metadata out of METADATA_LIMITS is refused before the command runs.
await assert.rejects(
  orders.handleCommand("o-2", place("pen"), { metadata: { headers: { "no spaces": "x" } } }),
  /header name "no spaces"/,
);
await orders.close();
await shelves.close();
