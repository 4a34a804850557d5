// The load of the cluster fault scenarios and its bookkeeping: many concurrent sends through an
// EntityClient, each `add` with a unique tag that is also its command id, and a ledger of what
// was sent, acknowledged (with the state in the reply, or the seqNo of a duplicate) and failed
// (with its reason). verifyCluster compares the ledger with the log afterwards.

import assert from "node:assert/strict";
import { type EventLog, isHandleCommandError } from "../../mod.ts";
import type { EntityClient } from "../../adapters/nats/mod.ts";
import { RETRIED_FAILURES } from "../../adapters/nats/_cluster_protocol.ts";
import { collect } from "../../testing/mod.ts";
import { amountOf, sleep, taggedBinarize } from "./load.ts";
import type { ClusterCounterCommands } from "./cluster_counter.ts";

/** A client that can send the tagged counter's commands. */
export type CounterClient = EntityClient<{ [type: string]: ClusterCounterCommands }>;

/** What a load sent and got back. */
export class ClusterLedger {
  /** tag -> id, for every command sent. */
  readonly sent = new Map<string, string>();
  /** tag -> state in the reply, for every command acknowledged with a reply. */
  readonly acked = new Map<string, number>();
  /** tag -> seqNo, for every command answered as a duplicate of an earlier send. */
  readonly duplicates = new Map<string, number>();
  /** tag -> failure reason (a HandleCommandFailure, or how else it failed). */
  readonly failed = new Map<string, string>();

  send(id: string, tag: string): void {
    assert.ok(!this.sent.has(tag), `tag ${tag} sent twice`);
    this.sent.set(tag, id);
  }
  ack(tag: string, state: number): void {
    assert.ok(this.sent.has(tag) && !this.answered(tag), `second answer for ${tag}`);
    this.acked.set(tag, state);
  }
  duplicate(tag: string, seqNo: number): void {
    assert.ok(this.sent.has(tag) && !this.answered(tag), `second answer for ${tag}`);
    this.duplicates.set(tag, seqNo);
  }
  fail(tag: string, reason: string): void {
    assert.ok(this.sent.has(tag) && !this.answered(tag), `second answer for ${tag}`);
    this.failed.set(tag, reason);
  }
  answered(tag: string): boolean {
    return this.acked.has(tag) || this.duplicates.has(tag) || this.failed.has(tag);
  }
  /** Commands acknowledged so far (with a reply or as a duplicate). */
  get acknowledged(): number {
    return this.acked.size + this.duplicates.size;
  }
  /** Failure counts by reason, as "reason×n" joined by commas ("none" without failures). */
  failureSummary(): string {
    const counts = new Map<string, number>();
    for (const reason of this.failed.values()) counts.set(reason, (counts.get(reason) ?? 0) + 1);
    if (counts.size === 0) return "none";
    return [...counts].map(([reason, n]) => `${reason}×${n}`).join(", ");
  }
}

/** Options of {@linkcode runLoad}. */
export interface LoadOptions {
  client: CounterClient;
  typeName: string;
  ids: readonly string[];
  ledger: ClusterLedger;
  /** Tags are `<prefix>.<n>`, so two loads never share one. */
  prefix: string;
  /** Sends under way at once. */
  concurrency: number;
  /** Most commands in all. */
  commands: number;
  /** The client's deadline per command, ms. */
  timeout: number;
  /** Commands per second in all; none: as fast as the hosts answer. */
  rate?: number;
  /** Ends the load early: no new command starts once aborted. */
  signal?: AbortSignal;
}

/**
 * Sends `add` commands to random ids of `ids` from `concurrency` workers until `commands`
 * were sent or `signal` aborts, entering each send and its outcome into the ledger.
 */
export async function runLoad(options: LoadOptions): Promise<void> {
  const { client, typeName, ids, ledger, prefix, concurrency, commands, timeout } = options;
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < commands && !options.signal?.aborted) {
      const n = next++;
      if (options.rate !== undefined) {
        const due = started + (n * 1000) / options.rate;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        if (options.signal?.aborted) return;
      }
      const id = ids[Math.floor(Math.random() * ids.length)]!;
      const tag = `${prefix}.${n}`;
      ledger.send(id, tag);
      try {
        const result = await client.send(typeName, id, "add", { tag, by: amountOf(tag) }, {
          commandId: tag,
          timeout,
        });
        if ("duplicate" in result && result.duplicate) ledger.duplicate(tag, result.seqNo);
        else if (result.ok) ledger.ack(tag, result.value as number);
        else ledger.fail(tag, `rejected:${String(result.error)}`);
      } catch (error) {
        ledger.fail(tag, isHandleCommandError(error) ? error.reason : `threw:${String(error)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * Failure reasons after which the command may still be in the log: the client gave up while
 * an attempt may have been persisted (unavailable, timeout), or one of its attempts failed
 * retryably after an earlier one may have been persisted. Any other failure must have written
 * nothing.
 */
const MAYBE_APPLIED: ReadonlySet<string> = new Set(["unavailable", "timeout", ...RETRIED_FAILURES]);

/** The result of {@linkcode verifyCluster}. */
export interface ClusterVerdict {
  sent: number;
  acknowledged: number;
  failed: number;
  found: number;
  lost: number;
  duplicated: number;
  /** Events whose command got no acknowledgement (it failed, or its reply was lost). */
  writtenWithoutAck: number;
  /** The state the log gives each id. */
  states: Map<string, number>;
}

/**
 * Reads every entity of `ids` with eventsById and checks: seqNos are exactly 1..n; every event
 * comes from a command sent to that id, its metadata's commandId is its tag, and its amount
 * is the tag's; no tag is in the log twice; every acknowledged tag is there, a reply equal to
 * the state the log has at its event and a duplicate at the seqNo it named; a command that
 * failed for a reason that promises nothing was written is absent.
 */
export async function verifyCluster(
  eventLog: EventLog,
  typeName: string,
  ids: readonly string[],
  ledger: ClusterLedger,
): Promise<ClusterVerdict> {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  let found = 0;
  let writtenWithoutAck = 0;
  const states = new Map<string, number>();
  let next = 0;
  const check = async (id: string) => {
    const events = await collect(eventLog.eventsById(typeName, id, 1));
    let state = 0;
    for (const [i, persisted] of events.entries()) {
      const where = `${id}/${persisted.seqNo}`;
      if (persisted.seqNo !== i + 1) problems.push(`${where}: expected seqNo ${i + 1}`);
      const event = taggedBinarize.eventFromBytes(persisted.bytes);
      state += event.by;
      found++;
      seen.set(event.tag, (seen.get(event.tag) ?? 0) + 1);
      if (persisted.metadata.commandId !== event.tag) {
        problems.push(`${where}: ${event.tag} has commandId ${persisted.metadata.commandId}`);
      }
      const sentTo = ledger.sent.get(event.tag);
      if (sentTo !== id) problems.push(`${where}: ${event.tag} was sent to ${sentTo ?? "nobody"}`);
      if (event.by !== amountOf(event.tag)) problems.push(`${where}: ${event.tag} by ${event.by}`);
      const replied = ledger.acked.get(event.tag);
      const duplicateAt = ledger.duplicates.get(event.tag);
      const failure = ledger.failed.get(event.tag);
      if (replied !== undefined && replied !== state) {
        problems.push(`${where}: ${event.tag} replied ${replied}, the log says ${state}`);
      }
      if (duplicateAt !== undefined && duplicateAt !== persisted.seqNo) {
        problems.push(`${where}: ${event.tag} answered as a duplicate of seqNo ${duplicateAt}`);
      }
      if (replied === undefined && duplicateAt === undefined) writtenWithoutAck++;
      if (failure !== undefined && !MAYBE_APPLIED.has(failure)) {
        problems.push(`${where}: ${event.tag} failed with ${failure} but is in the log`);
      }
    }
    states.set(id, state);
    const last = await eventLog.lastSeqNo(typeName, id);
    if ((last ?? 0) !== events.length) {
      problems.push(`${id}: lastSeqNo ${last} but ${events.length} events`);
    }
  };
  const reader = async () => {
    while (next < ids.length) await check(ids[next++]!);
  };
  await Promise.all(Array.from({ length: 8 }, reader));
  let duplicated = 0;
  for (const [tag, count] of seen) {
    if (count > 1) {
      duplicated += count - 1;
      problems.push(`${tag} is in the log ${count} times`);
    }
  }
  let lost = 0;
  for (const tag of [...ledger.acked.keys(), ...ledger.duplicates.keys()]) {
    if (!seen.has(tag)) {
      lost++;
      if (lost <= 10) {
        problems.push(`acknowledged ${tag} (${ledger.sent.get(tag)}) is not in the log`);
      }
    }
  }
  const unanswered = [...ledger.sent.keys()].filter((tag) => !ledger.answered(tag));
  if (unanswered.length > 0) {
    problems.push(`${unanswered.length} sends never settled, e.g. ${unanswered.slice(0, 3)}`);
  }
  assert.deepEqual(problems.slice(0, 30), [], `the log disagrees with the ledger`);
  return {
    sent: ledger.sent.size,
    acknowledged: ledger.acknowledged,
    failed: ledger.failed.size,
    found,
    lost,
    duplicated,
    writtenWithoutAck,
    states,
  };
}

/**
 * Prints `<scenario>: acknowledged N, failed F (reasons), lost 0, duplicated 0[, note]` and
 * asserts nothing acknowledged was lost and nothing was applied twice.
 */
export function reportCluster(
  name: string,
  verdict: ClusterVerdict,
  ledger: ClusterLedger,
  note = "",
): void {
  const { acknowledged, failed, lost, duplicated, sent, found, writtenWithoutAck } = verdict;
  console.log(
    `${name}: acknowledged ${acknowledged}, failed ${failed} (${ledger.failureSummary()}), lost ${lost}, duplicated ${duplicated}${
      note ? `, ${note}` : ""
    }`,
  );
  console.log(
    `  (${name}: sent ${sent}, ${found} events, ${ledger.duplicates.size} answered as duplicates, ${writtenWithoutAck} written without an ack)`,
  );
  assert.equal(lost, 0, `${name}: acknowledged commands lost`);
  assert.equal(duplicated, 0, `${name}: commands applied twice`);
}

/**
 * Sends `get` to every id of `ids` (16 at a time) and asserts each answers with the state the
 * log gives it: the entities came back from their logs wherever they live now.
 */
export async function assertStates(
  client: CounterClient,
  typeName: string,
  ids: readonly string[],
  states: ReadonlyMap<string, number>,
  timeout: number,
): Promise<void> {
  const wrong: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const result = await client.send(typeName, id, "get", undefined as never, { timeout });
      const expected = states.get(id) ?? 0;
      if (!result.ok || result.value !== expected) {
        wrong.push(`${id}: ${JSON.stringify(result)}, the log says ${expected}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  assert.deepEqual(wrong.slice(0, 10), [], "every entity answers with the log's state");
}

/**
 * Sends `get` to each id of `ids` at once and resolves with the ms from `since` (a
 * performance.now() time) until the last of them answered; a failure rejects.
 */
export async function timeUntilAnswered(
  client: CounterClient,
  typeName: string,
  ids: readonly string[],
  since: number,
  timeout: number,
): Promise<number> {
  const times = await Promise.all(ids.map(async (id) => {
    const result = await client.send(typeName, id, "get", undefined as never, { timeout });
    assert.ok(result.ok, `${id} answers get`);
    return performance.now() - since;
  }));
  return Math.max(0, ...times);
}
