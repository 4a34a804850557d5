// protobufCodec: the codec of one message type for commands sent between processes.

import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { commandSet, emitAndReply } from "../mod.ts";
import { isProtobufDecodeError, protobufCodec } from "../protobuf/mod.ts";
import { CounterStateSchema, IncreasedSchema } from "../examples/proto/gen/counter_pb.ts";

test("a message goes to its wire bytes and back", () => {
  const codec = protobufCodec(IncreasedSchema);
  const message = create(IncreasedSchema, { by: 7 });
  const bytes = codec.encode(message);
  assert.deepEqual([...bytes], [8, 7]);
  assert.equal(codec.decode(bytes).by, 7);
});

test("bytes that are not the message throw a ProtobufDecodeError naming it", () => {
  const codec = protobufCodec(CounterStateSchema);
  assert.throws(() => codec.decode(new Uint8Array([8])), (error) => {
    assert.ok(isProtobufDecodeError(error));
    assert.equal(error.what, "message");
    assert.match(error.message, /eventsourced\.examples\.counter\.v1\.CounterState.*1 bytes/);
    return true;
  });
});

test("bad arguments are named", () => {
  assert.throws(() => protobufCodec({} as never), /message descriptor/);
  assert.throws(
    () => protobufCodec(IncreasedSchema, { read: {} } as never),
    /Unknown protobufCodec option "read"/,
  );
});

test("a command set carries it as a command's codecs", () => {
  const counter = {
    typeName: "counter",
    initialState: 0,
    handleEvent: (n: number, by: number) => n + by,
  };
  const set = commandSet(counter, {
    add: (payload: { by: number }) => ({
      handleCommand: () => emitAndReply(payload.by, (n: number) => n),
    }),
  }, { codecs: { add: { payload: protobufCodec(IncreasedSchema) } } });
  const codecs = set.codecs("add")!;
  assert.deepEqual([...codecs.payload.encode(create(IncreasedSchema, { by: 2 }))], [8, 2]);
  assert.deepEqual(codecs.reply.decode(codecs.reply.encode(5)), 5);
});
