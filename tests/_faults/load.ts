// The entity, the bookkeeping and the log check shared by the fault scenarios. Every command
// carries a unique tag; the ledger records what was sent and what was acknowledged (with the
// state in the reply), and verifyLog compares that with what the log holds afterwards.

import assert from "node:assert/strict";
import {
  type Command,
  type CommandEffect,
  emitAndReply,
  type EventLog,
  type EventSourced,
  jsonBinarize,
  reply,
} from "../../mod.ts";
import { collect } from "../../testing/mod.ts";

/** An event of the fault counter: which command wrote it, and by how much it adds. */
export interface TaggedEvent {
  readonly tag: string;
  readonly by: number;
}

/** A counter whose events name the command that wrote them. */
export function taggedCounter(typeName: string): EventSourced<number, TaggedEvent> {
  return { typeName, initialState: 0, handleEvent: (state, event) => state + event.by };
}

/** The codec of the fault counter. */
export const taggedBinarize = jsonBinarize<TaggedEvent, number>();

/** Adds `by`, tagged `tag`; replies with the new state. */
export function add(tag: string, by: number): Command<number, TaggedEvent, number, never> {
  return {
    handleCommand: (): CommandEffect<number, TaggedEvent, number, never> =>
      emitAndReply({ tag, by }, (state) => state),
  };
}

/** Replies with the state. */
export const getState: Command<number, TaggedEvent, number, never> = {
  handleCommand: (_id, state) => reply(state),
};

/** The amount a tag adds: small, varied, derived from the tag so both sides agree. */
export function amountOf(tag: string): number {
  let hash = 0;
  for (let i = 0; i < tag.length; i++) hash = (hash * 31 + tag.charCodeAt(i)) >>> 0;
  return (hash % 7) + 1;
}

/** What a load sent and got back, per entity id. */
export class Ledger {
  /** tag -> id, for every command sent. */
  readonly sent = new Map<string, string>();
  /** tag -> state in the reply, for every acknowledged command. */
  readonly acked = new Map<string, number>();
  /** tag -> error, for every failed command. */
  readonly failed = new Map<string, unknown>();

  send(id: string, tag: string): void {
    assert.ok(!this.sent.has(tag), `tag ${tag} sent twice`);
    this.sent.set(tag, id);
  }
  ack(tag: string, state: number): void {
    assert.ok(this.sent.has(tag), `ack of unsent tag ${tag}`);
    assert.ok(!this.acked.has(tag), `tag ${tag} acknowledged twice`);
    this.acked.set(tag, state);
  }
  fail(tag: string, error: unknown): void {
    this.failed.set(tag, error);
  }
  /** Acknowledged commands of entity `id`. */
  ackedOf(id: string): number {
    let n = 0;
    for (const tag of this.acked.keys()) if (this.sent.get(tag) === id) n++;
    return n;
  }
}

/** The result of {@linkcode verifyLog}. */
export interface Verdict {
  sent: number;
  acknowledged: number;
  found: number;
  lost: number;
  duplicated: number;
  /** Events in the log whose command got no reply (written, ack lost). */
  writtenWithoutAck: number;
  /** Final state per id, as the log has it. */
  states: Map<string, number>;
  /** Last seqNo per id. */
  heads: Map<string, number>;
}

/**
 * Reads every entity of the ledger back and checks: seqNos are exactly 1..n (none missing,
 * none doubled); every event comes from a command that was sent; no command is in the log
 * twice; every acknowledged command is there, and its reply is the state the log has at its
 * event (so the entity replied from the history the log kept). Events without an ack are
 * allowed (the ack was lost in the fault) and counted. Also reads `eventsByType` once and
 * checks each event appears there exactly once.
 */
export async function verifyLog(
  eventLog: EventLog,
  typeName: string,
  ids: readonly string[],
  ledger: Ledger,
): Promise<Verdict> {
  const seenTags = new Map<string, number>();
  const states = new Map<string, number>();
  const heads = new Map<string, number>();
  let found = 0;
  let writtenWithoutAck = 0;
  const problems: string[] = [];
  for (const id of ids) {
    const events = await collect(eventLog.eventsById(typeName, id, 1));
    let state = 0;
    for (const [i, persisted] of events.entries()) {
      if (persisted.seqNo !== i + 1) {
        problems.push(`${id}: event ${i} has seqNo ${persisted.seqNo}, expected ${i + 1}`);
      }
      if (persisted.id !== id || persisted.typeName !== typeName) {
        problems.push(`${id}: event of ${persisted.typeName}/${persisted.id} in its read`);
      }
      const event = taggedBinarize.eventFromBytes(persisted.bytes);
      state += event.by;
      found++;
      seenTags.set(event.tag, (seenTags.get(event.tag) ?? 0) + 1);
      const sentTo = ledger.sent.get(event.tag);
      if (sentTo === undefined) problems.push(`${id}: event ${event.tag} was never sent`);
      else if (sentTo !== id) problems.push(`${id}: event ${event.tag} was sent to ${sentTo}`);
      if (event.by !== amountOf(event.tag)) problems.push(`${id}: ${event.tag} has by ${event.by}`);
      const replied = ledger.acked.get(event.tag);
      if (replied === undefined) writtenWithoutAck++;
      else if (replied !== state) {
        problems.push(
          `${id}: ${event.tag} at seqNo ${persisted.seqNo} replied ${replied}, the log says ${state}`,
        );
      }
    }
    const last = await eventLog.lastSeqNo(typeName, id);
    if ((last ?? 0) !== events.length) {
      problems.push(`${id}: lastSeqNo ${last} but ${events.length} events`);
    }
    states.set(id, state);
    heads.set(id, events.length);
  }
  let duplicated = 0;
  for (const [tag, count] of seenTags) {
    if (count > 1) {
      duplicated += count - 1;
      problems.push(`${tag} is in the log ${count} times`);
    }
  }
  let lost = 0;
  for (const tag of ledger.acked.keys()) {
    if (!seenTags.has(tag)) {
      lost++;
      if (lost <= 10) {
        problems.push(`acknowledged ${tag} (${ledger.sent.get(tag)}) is not in the log`);
      }
    }
  }
  // The by-type read holds each event once, in strictly increasing positions.
  const byType = await collect(eventLog.eventsByType(typeName, 0));
  const keys = new Set<string>();
  let lastPosition = -Infinity;
  for (const event of byType) {
    const key = `${event.id}\u0000${event.seqNo}`;
    if (keys.has(key)) problems.push(`eventsByType returns ${event.id}/${event.seqNo} twice`);
    keys.add(key);
    if (!(event.position > lastPosition)) {
      problems.push(`position ${event.position} not increasing`);
    }
    lastPosition = event.position;
  }
  if (keys.size !== found) {
    problems.push(`eventsByType has ${keys.size} events, eventsById ${found}`);
  }
  const verdict: Verdict = {
    sent: ledger.sent.size,
    acknowledged: ledger.acked.size,
    found,
    lost,
    duplicated,
    writtenWithoutAck,
    states,
    heads,
  };
  assert.deepEqual(problems, [], `the log disagrees with the ledger:\n${problems.join("\n")}`);
  return verdict;
}

/** Prints the scenario's summary line and asserts nothing was lost or doubled. */
export function report(name: string, verdict: Verdict, note = ""): void {
  const { sent, acknowledged, found, lost, duplicated, writtenWithoutAck } = verdict;
  console.log(
    `scenario ${name}: sent ${sent}, acknowledged ${acknowledged}, found ${found}, lost ${lost}, duplicated ${duplicated}`,
  );
  console.log(
    `  (${name}: ${writtenWithoutAck} written without an ack, ${
      sent - acknowledged
    } without a reply${note ? `; ${note}` : ""})`,
  );
  assert.equal(lost, 0, `${name}: acknowledged commands lost`);
  assert.equal(duplicated, 0, `${name}: commands duplicated`);
  assert.ok(found >= acknowledged, `${name}: fewer events than acknowledged commands`);
  assert.ok(found <= sent, `${name}: more events than commands sent`);
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 20 ms until it holds; fails after `ms`. */
export async function waitUntil(
  what: string,
  condition: () => boolean,
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Counts of a writer child's stdout records. */
export interface WriterRecords {
  conflicts: number;
  otherFailures: string[];
  done: Set<string>;
  finished: boolean;
  ready: boolean;
  /** Ids that had a conflict. */
  conflicted: Set<string>;
  /** Ids that got an ack after a conflict. */
  recoveredAfterConflict: Set<string>;
}

/** Enters the records of a writer child (see writer.ts) into `ledger`. */
export function absorbWriter(lines: readonly string[][], ledger: Ledger): WriterRecords {
  const records: WriterRecords = {
    conflicts: 0,
    otherFailures: [],
    done: new Set(),
    finished: false,
    ready: false,
    conflicted: new Set(),
    recoveredAfterConflict: new Set(),
  };
  const conflicted = records.conflicted;
  for (const line of lines) {
    const [kind, id, tag, value, conflict] = line;
    switch (kind) {
      case "ready":
        records.ready = true;
        break;
      case "send":
        ledger.send(id!, tag!);
        break;
      case "ack":
        ledger.ack(tag!, Number(value));
        if (conflicted.has(id!)) records.recoveredAfterConflict.add(id!);
        break;
      case "fail":
        ledger.fail(tag!, value);
        if (conflict === "1") {
          records.conflicts++;
          conflicted.add(id!);
        } else records.otherFailures.push(line.join(" "));
        break;
      case "done":
        records.done.add(id!);
        break;
      case "finished":
        records.finished = true;
        break;
      default:
        records.otherFailures.push(`unexpected line: ${line.join(" ")}`);
    }
  }
  return records;
}
