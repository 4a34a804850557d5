// The deduplication-window part of the memory scale ladder (bench/_scale_memory.ts): what a
// live entity costs as commands with a commandId (a random UUID, as an HTTP client's
// idempotency key) fill its window of 256 ids (the default `deduplicationWindow`), and after the
// window rolls over. Heap after full collections over `entities` live entities, divided by
// their count, measured from the spawned, idle entities; the log (RecentEntitiesLog keeping
// each entity's last event only) counts in it with that one event.
// The baseline: the same work on bare Maps, a state per id, the id's last event bytes, and a
// Map of its last 256 commandIds (the oldest dropped by insertion order).

import { EntityRegistry } from "../mod.ts";
import { printTable, rateOf, size } from "./_scale_report.ts";
import { runtimeName } from "./_stats.ts";
import { add, binarize, counter, heapUsed, loadAverage } from "./_scale_memory_common.ts";
import { RecentEntitiesLog } from "./_scale_memory_log.ts";

const WINDOW = 256;
// Commands each entity has had when the heap is sampled.
const STEPS = [1, 16, 256, 512];

const idOf = (i: number) => `w${i}`;

/** Prints heap per live entity as its deduplication window fills. */
export async function windowCost(entities: number): Promise<void> {
  const started = new Date().toISOString();
  const ours = await registrySide(entities);
  const theirs = bareSide(entities);
  printTable(
    `Deduplication window, ${size(entities)} live entities, window ${WINDOW}, UUID ` +
      `commandIds (${runtimeName()}, ${started}, load ${loadAverage()})`,
    ["commands with a commandId per entity", "EntityRegistry", "bare Maps", "ratio"],
    STEPS.map((step, i) => [
      `heap per live entity after ${step}, bytes`,
      String(Math.round(ours[i]!)),
      String(Math.round(theirs[i]!)),
      (ours[i]! / theirs[i]!).toFixed(2),
    ]),
  );
}

async function registrySide(entities: number): Promise<number[]> {
  const log = new RecentEntitiesLog(entities, 1);
  const registry = new EntityRegistry(counter, { eventLog: log, binarize, passivateAfter: 0 });
  await rateOf(entities, 64, (i) => registry.get(idOf(i)));
  const h0 = heapUsed();
  const perEntity: number[] = [];
  let done = 0;
  for (const step of STEPS) {
    const more = step - done;
    await rateOf(entities, 64, async (i) => {
      for (let k = 0; k < more; k++) {
        await registry.handleCommand(idOf(i), add, {
          metadata: { commandId: crypto.randomUUID() },
        });
      }
    });
    done = step;
    perEntity.push((heapUsed() - h0) / entities);
  }
  if (registry.size !== entities || log.kept !== entities) throw new Error("entities lost");
  await registry.close();
  return perEntity;
}

function bareSide(entities: number): number[] {
  const states = new Map<string, number>();
  const lastEvents = new Map<string, Uint8Array>();
  const windows = new Map<string, Map<string, number>>();
  for (let i = 0; i < entities; i++) states.set(idOf(i), counter.initialState);
  const h0 = heapUsed();
  const perEntity: number[] = [];
  let done = 0;
  for (const step of STEPS) {
    for (let i = 0; i < entities; i++) {
      const id = idOf(i);
      for (let k = done; k < step; k++) {
        const commandId = crypto.randomUUID();
        let window = windows.get(id);
        if (window?.has(commandId)) continue;
        const state = states.get(id)!;
        const text = JSON.stringify({ type: "added", by: 1 });
        const bytes = new Uint8Array(text.length);
        for (let c = 0; c < text.length; c++) bytes[c] = text.charCodeAt(c);
        lastEvents.set(id, bytes);
        if (window === undefined) windows.set(id, window = new Map());
        window.set(commandId, state + 1);
        if (window.size > WINDOW) window.delete(window.keys().next().value!);
        states.set(id, state + 1);
      }
    }
    done = step;
    perEntity.push((heapUsed() - h0) / entities);
  }
  if (lastEvents.size !== entities) throw new Error("events lost"); // alive till here
  return perEntity;
}
