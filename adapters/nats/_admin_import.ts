// How the NATS store admin imports events: each entity is checked against its head first, so a
// refused call writes nothing; then each run of an entity's consecutive events with the same
// version, metadata and writtenAt is one message, published with the concurrency check of
// persist, in the given order, stopping at the first failure. Positions come from the stream.

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
  const entities = new Map<string, EntityState>();
  try {
    if (!log.streamAdmin.ready) await withSignal(log.streamAdmin.check(), signal);
    for (const [key, entity] of plan.entities) {
      const head = await withSignal(log.head(entity.typeName, entity.id), signal);
      assertContinues(entity, head === null ? null : head.lastSeqNo);
      const subject = log.subject(entity.typeName, entity.id);
      entities.set(key, { subject, streamSeq: head === null ? 0 : head.streamSeq });
    }
  } catch (error) {
    if (error instanceof ConcurrencyError || error instanceof RangeError) throw error;
    if (signal?.aborted && error === signal.reason) throw error;
    throw storageError(`${what}, nothing was written`, error, "read");
  }
  const maxBody = Math.max((log.nc.info?.max_payload ?? 1024 * 1024) - HEADER_ROOM, 1);
  for (const run of runs(plan.events, maxBody)) {
    signal?.throwIfAborted();
    const first = run[0]!;
    const last = run[run.length - 1]!;
    const state = entities.get(entityKey(first.typeName, first.id))!;
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
