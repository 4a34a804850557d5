// How the NATS store admin imports events: each run of an entity's consecutive events with the
// same version, metadata and writtenAt is one message, published with the concurrency check of
// persist, in the given order, sending nothing more after the first failure; an entity whose
// events do not continue it is refused without anything of it written. Positions come from the
// stream.

import type { PersistedEvent } from "../../src/event_log.ts";
import { ConcurrencyError } from "../../src/errors.ts";
import { assertContinues, entityKey, type ImportPlan } from "../../admin/_import_events.ts";
import type { NatsLogInternals } from "./_log_internals.ts";
import { encodePersist, POSITION_FACTOR } from "./_message.ts";
import { withSignal } from "./_jetstream.ts";
import { apiCode, storageError, WRONG_LAST_SEQUENCE } from "./_storage_errors.ts";

// The room a message's headers may take (JetStream keeps at most 64 KiB of them).
const HEADER_ROOM = 64 * 1024;

interface EntityState {
  readonly subject: string;
  streamSeq: number;
}

/** Imports the events of `plan` through the publish path of the log. */
export async function importToStream(
  log: NatsLogInternals,
  plan: ImportPlan,
  signal: AbortSignal | undefined,
): Promise<void> {
  const what = `Cannot import ${plan.events.length} events`;
  const entities = await checkEntities(log, plan, what, signal);
  const maxBody = Math.max((log.nc.info?.max_payload ?? 1024 * 1024) - HEADER_ROOM, 1);
  // One message at a time: the stream stores them in the given order, and nothing is sent
  // after a failure. (Deno's WebSocket is slower with many requests in flight, bench/README.md.)
  for (const run of runs(plan.events, maxBody)) {
    signal?.throwIfAborted();
    await publishRun(log, run, entities.get(entityKey(run[0]!.typeName, run[0]!.id))!, what);
  }
}

// The stream sequence each entity's first message must follow, as persist finds it: none for
// an entity whose events start at seqNo 1 or that has none yet (the server refuses the message
// if the subject has one), the log's remembered head when it fits (the server refuses a stale one), else a lookup
// whose head the events must continue, so those refusals come before anything is written.
async function checkEntities(
  log: NatsLogInternals,
  plan: ImportPlan,
  what: string,
  signal: AbortSignal | undefined,
): Promise<Map<string, EntityState>> {
  const entities = new Map<string, EntityState>();
  try {
    if (!log.streamAdmin.ready) await withSignal(log.streamAdmin.check(), signal);
    for (const [key, entity] of plan.entities) {
      const subject = log.subject(entity.typeName, entity.id);
      let streamSeq = 0;
      if (entity.firstSeqNo > 1) {
        let head = log.remembered(subject);
        if (head === undefined || head.lastSeqNo !== entity.firstSeqNo - 1) {
          head = await withSignal(log.head(entity.typeName, entity.id), signal) ?? undefined;
          assertContinues(entity, head === undefined ? null : head.lastSeqNo);
        }
        // None: the entity's first events were deleted, and it starts on an empty subject.
        streamSeq = head?.streamSeq ?? 0;
      }
      entities.set(key, { subject, streamSeq });
    }
  } catch (error) {
    if (error instanceof ConcurrencyError || error instanceof RangeError) throw error;
    if (signal?.aborted && error === signal.reason) throw error;
    throw storageError(`${what}, nothing was written`, error, "read");
  }
  return entities;
}

// Publishes one run as one message with the concurrency check of persist.
async function publishRun(
  log: NatsLogInternals,
  run: readonly PersistedEvent[],
  state: EntityState,
  what: string,
): Promise<void> {
  const first = run[0]!;
  const last = run[run.length - 1]!;
  const runWhat =
    `${what}: the events at seqNos ${first.seqNo} to ${last.seqNo} of "${first.typeName}/${first.id}"`;
  const message = encodePersist(
    first.seqNo,
    run.map((event) => event.bytes),
    state.streamSeq,
    first.version,
    first.metadata,
    first.writtenAt,
  );
  log.assertFits(message.headerBytes + message.body.length, `${runWhat} were not written`);
  let streamSeq: number;
  try {
    streamSeq = await log.publish(state.subject, message.body, message.headers);
  } catch (error) {
    log.remember(state.subject, undefined);
    if (apiCode(error) === WRONG_LAST_SEQUENCE) {
      const actual = await log.head(first.typeName, first.id).then(
        (head) => head === null ? null : head.lastSeqNo,
        () => null,
      );
      throw new ConcurrencyError({
        typeName: first.typeName,
        id: first.id,
        expected: first.seqNo === 1 ? null : first.seqNo - 1,
        actual,
        cause: error,
      });
    }
    throw storageError(runWhat, error, "write");
  }
  state.streamSeq = streamSeq;
  log.remember(state.subject, { lastSeqNo: last.seqNo, streamSeq });
}

// Consecutive events of one entity that share version, metadata and writtenAt, as one message
// can hold them: at most POSITION_FACTOR events and about `maxBody` bytes.
function* runs(events: readonly PersistedEvent[], maxBody: number): Generator<PersistedEvent[]> {
  let run: PersistedEvent[] = [];
  let bytes = 0;
  let runKey = "";
  for (const event of events) {
    const key = `${
      entityKey(event.typeName, event.id)
    }\u0000${event.version}\u0000${event.writtenAt}\u0000${JSON.stringify(event.metadata)}`;
    const size = 4 + event.bytes.length;
    if (
      run.length > 0 &&
      (key !== runKey || run.length === POSITION_FACTOR || bytes + size > maxBody)
    ) {
      yield run;
      run = [];
      bytes = 0;
    }
    runKey = key;
    run.push(event);
    bytes += size;
  }
  if (run.length > 0) yield run;
}
