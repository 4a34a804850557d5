// An EventLog that delegates to a MemoryEventLog and lets a test intervene in persist: fail
// before writing, write and then fail (a lost ack), or wait; it also counts calls.

import {
  type CallOptions,
  type EventLog,
  MemoryEventLog,
  type PersistOptions,
  type ReadOptions,
} from "../mod.ts";

export type PersistHook = (write: () => Promise<number>) => Promise<number>;

export class WrappedEventLog implements EventLog {
  readonly inner: MemoryEventLog;
  readonly calls = { persist: 0, lastSeqNo: 0, eventsById: 0, eventsByType: 0 };
  /** Replaces the next persist's behaviour, once. */
  nextPersist: PersistHook | undefined;

  constructor(inner = new MemoryEventLog()) {
    this.inner = inner;
  }

  persist(
    typeName: string,
    id: string,
    lastSeqNo: number | null,
    events: readonly Uint8Array[],
    options?: PersistOptions,
  ) {
    this.calls.persist++;
    const write = () => this.inner.persist(typeName, id, lastSeqNo, events, options);
    const hook = this.nextPersist;
    this.nextPersist = undefined;
    return hook ? hook(write) : write();
  }

  lastSeqNo(typeName: string, id: string, options?: CallOptions) {
    this.calls.lastSeqNo++;
    return this.inner.lastSeqNo(typeName, id, options);
  }

  eventsById(typeName: string, id: string, fromSeqNo: number, options?: ReadOptions) {
    this.calls.eventsById++;
    return this.inner.eventsById(typeName, id, fromSeqNo, options);
  }

  eventsByType(typeName: string, fromPosition: number, options?: ReadOptions) {
    this.calls.eventsByType++;
    return this.inner.eventsByType(typeName, fromPosition, options);
  }
}

export const failBeforeWrite: PersistHook = () => Promise.reject(new Error("connection reset"));

export const failAfterWrite: PersistHook = async (write) => {
  await write();
  throw new Error("ack lost");
};

export function delayed(ms: number): PersistHook {
  return async (write) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return write();
  };
}
