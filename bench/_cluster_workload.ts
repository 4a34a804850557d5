// The workload of bench/cluster.ts, the same on every path: a counter entity whose one command
// persists one event and replies with the new total, driven by C callers over N entities. Each
// caller owns the entities e with e % C = caller and sends to them in turn, awaiting each
// answer, so no entity ever has two commands in flight (the raw path needs that: its
// responder keeps one expected sequence per subject, as the log does).

import {
  commandSet,
  emitAndReply,
  type EventSourced,
  isHandleCommandError,
  jsonBinarize,
} from "../mod.ts";

/** The counter's one event. */
export interface Added {
  readonly type: "added";
  readonly by: number;
}

/** The counter entity. */
export const counter: EventSourced<number, Added> = {
  typeName: "counter",
  initialState: 0,
  handleEvent: (total, event) => total + event.by,
};

/** The counter's commands by name: `add` persists one event and replies with the total. */
export const counterCommands = commandSet(counter, {
  add: (by: number) => ({
    handleCommand: () => emitAndReply<number, Added, number>({ type: "added", by }, (n) => n),
  }),
});

/** The counter's event and snapshot codec. */
export const counterBinarize = jsonBinarize<Added, number>();

/** Sends one `add(1)` to entity `id` with command id `commandId`; resolves when answered. */
export type Send = (id: string, commandId: string) => Promise<void>;

/** What one measured phase gave. */
export interface Measured {
  readonly commands: number;
  readonly seconds: number;
  /** Milliseconds per command, in the order they completed. */
  readonly latencies: number[];
  /** Commands that failed, by reason (a HandleCommandError's reason or the error's name). */
  readonly failures: Map<string, number>;
}

/** The entity ids of one measurement: fresh per measurement, so each starts from empty logs. */
export function entityIds(tag: string, entities: number): string[] {
  return Array.from({ length: entities }, (_, e) => `${tag}-e${e}`);
}

/** Why a command failed, for counting. */
export function failureReason(error: unknown): string {
  if (isHandleCommandError(error)) return error.reason;
  return error instanceof Error ? error.name : typeof error;
}

/**
 * Sends commands from `callers` callers over `ids` (see the top of this file) for `seconds`
 * and measures the rate and each command's latency. A failed command is counted, not retried.
 */
export async function drive(
  send: Send,
  ids: readonly string[],
  callers: number,
  seconds: number,
): Promise<Measured> {
  if (ids.length < callers) throw new RangeError(`${ids.length} entities for ${callers} callers`);
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  const run = crypto.randomUUID();
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(Array.from({ length: callers }, async (_, caller) => {
    const own = ids.filter((_, e) => e % callers === caller);
    for (let i = 0; performance.now() < until; i++) {
      const t = performance.now();
      try {
        await send(own[i % own.length]!, `${run}-${caller}-${i}`);
      } catch (error) {
        const reason = failureReason(error);
        failures.set(reason, (failures.get(reason) ?? 0) + 1);
      }
      latencies.push(performance.now() - t);
    }
  }));
  return {
    commands: latencies.length,
    seconds: (performance.now() - started) / 1000,
    latencies,
    failures,
  };
}

/** One command to every entity, 64 at a time: spawns them (untimed) before a measurement. */
export async function warmUp(send: Send, ids: readonly string[]): Promise<void> {
  const run = crypto.randomUUID();
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(64, ids.length) }, async () => {
    while (next < ids.length) {
      const e = next++;
      await send(ids[e]!, `${run}-warm-${e}`);
    }
  }));
}
