// Bundled for browsers by tests/shredding_edge_test.ts (platform browser, no Node built-ins):
// crypto-shredding with the memory stores, Web Crypto and nothing else.

import { jsonBinarize, MemoryEventLog } from "../mod.ts";
import { cryptoShredding, isForgotten, MemoryKeyStore } from "../shredding/mod.ts";

/** Persists two patients' notes, forgets one, reads both back: what each note reads as. */
export async function run(): Promise<{ stored: string[]; read: string[] }> {
  const shredding = cryptoShredding({
    keyStore: new MemoryKeyStore(),
    masterKey: crypto.getRandomValues(new Uint8Array(32)),
  });
  const inner = new MemoryEventLog();
  const log = shredding.eventLog(inner);
  const binarize = shredding.binarize(jsonBinarize<{ note: string }, null>(), {
    events: "whole",
    states: "none",
  });
  for (const id of ["p1", "p2"]) {
    await log.persist("patient", id, null, [binarize.eventToBytes({ note: `${id}-secret` })]);
  }
  await shredding.forget("patient", "p1");
  const stored: string[] = [];
  const read: string[] = [];
  const decoder = new TextDecoder();
  for await (const event of inner.eventsByType("patient", 1)) {
    stored.push(decoder.decode(event.bytes));
  }
  for await (const event of log.eventsByType("patient", 1)) {
    const value = binarize.eventFromBytes(event.bytes, event.version);
    read.push(isForgotten(value) ? `${event.id}:forgotten` : `${event.id}:${value.note}`);
  }
  return { stored, read };
}
