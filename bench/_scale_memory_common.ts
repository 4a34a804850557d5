// What the memory scale ladder's parts share (bench/_scale_memory.ts): the counter entity and
// its command, the bare-Map baseline doing the same work, heap after a full collection, a
// seeded random source, and a pause that lets timers (the registry's sweeper) run.

import process from "node:process";
import { loadavg } from "node:os";
import { emitAndReply, type EventSourced, jsonBinarize } from "../mod.ts";

export type Added = { type: "added"; by: number };

export const counter: EventSourced<number, Added> = {
  typeName: "counter",
  initialState: 0,
  handleEvent: (state, event) => state + event.by,
};

export const binarize = jsonBinarize<Added, number>();

/** Adds 1: one event, the new state as the reply. */
export const add = {
  handleCommand: () => emitAndReply<number, Added, number>({ type: "added", by: 1 }, (s) => s),
};

/**
 * The same work without the library: look the state up in a Map, encode the event (JSON
 * text into a fresh byte array), store the bytes with the entity's others, apply the event.
 */
export class BareMap {
  readonly states = new Map<string, number>();
  readonly events = new Map<string, Uint8Array[]>();
  readonly commandIds = new Map<string, string>();

  /** A new id: its initial state, as a spawn makes it live. */
  spawn(id: string): Promise<void> {
    if (!this.states.has(id)) this.states.set(id, counter.initialState);
    return Promise.resolve();
  }

  command(id: string, commandId?: string): Promise<number> {
    const state = this.states.get(id) ?? counter.initialState;
    if (commandId !== undefined && this.commandIds.get(id) === commandId) {
      return Promise.resolve(state);
    }
    const event: Added = { type: "added", by: 1 };
    const bytes = encode(event);
    const kept = this.events.get(id);
    if (kept === undefined) this.events.set(id, [bytes]);
    else kept.push(bytes);
    if (commandId !== undefined) this.commandIds.set(id, commandId);
    const next = counter.handleEvent(state, event);
    this.states.set(id, next);
    return Promise.resolve(next);
  }

  /** Forgets the id, as a passivation (and a log that forgets it) would. */
  drop(id: string): void {
    this.states.delete(id);
    this.events.delete(id);
    this.commandIds.delete(id);
  }
}

function encode(value: unknown): Uint8Array {
  const text = JSON.stringify(value);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/**
 * Memory in use after full collections: the V8 heap plus what array buffers hold outside it
 * (heapUsed + external), so event bytes count. Needs --v8-flags=--expose-gc on Deno.
 */
export function heapUsed(): number {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) g.Bun.gc(true);
  else if (g.gc) {
    g.gc();
    g.gc();
  } else throw new Error("heap figures need --v8-flags=--expose-gc (Deno) or --expose-gc (Node)");
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

/** A seeded xorshift32: the same random ids in every run. */
export function random(seed = 0x9e3779b9): (below: number) => number {
  let x = seed | 0 || 1;
  return (below) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % below;
  };
}

/** Lets timers run: commands on a memory log settle in microtasks and never yield on their own. */
export function yieldToTimers(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The longest gap between 1 ms timers over `ms`: how long the event loop was held at most. */
export async function longestPause(ms: number): Promise<number> {
  let last = performance.now();
  const end = last + ms;
  let worst = 0;
  while (last < end) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }
  return worst;
}

/** The load averages over 1, 5 and 15 minutes, as `uptime` prints them. */
export function loadAverage(): string {
  return loadavg().map((value) => value.toFixed(2)).join(" ");
}
