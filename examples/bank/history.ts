// The event history the demo prints: per entity, each event with its seqNo, when it was
// written (the store's clock) and the metadata that says why: the command that wrote it, the
// correlation (for a transfer's steps, the transfer's id) and what caused it.

import type { EventEnvelope, EventMetadata, EventReader } from "../../mod.ts";

/** One line of metadata, e.g. `command=t-1:debit correlation=t-1 causation=t-1:request`. */
export function describeMetadata(metadata: EventMetadata): string {
  const parts: string[] = [];
  if (metadata.commandId !== undefined) parts.push(`command=${metadata.commandId}`);
  if (metadata.correlationId !== undefined) parts.push(`correlation=${metadata.correlationId}`);
  if (metadata.causationId !== undefined) parts.push(`causation=${metadata.causationId}`);
  for (const [name, value] of Object.entries(metadata.headers ?? {})) {
    parts.push(`${name}=${value}`);
  }
  return parts.length === 0 ? "(no metadata)" : parts.join(" ");
}

/** One line per event of an envelope list, for `describe`d events. */
export function historyLine<Event>(
  envelope: EventEnvelope<Event>,
  describe: (event: Event) => string,
): string {
  const when = new Date(envelope.writtenAt).toISOString();
  return `#${envelope.seqNo} ${when} ${describe(envelope.event).padEnd(30)} ${
    describeMetadata(envelope.metadata)
  }`;
}

/** The lines of entity `id`'s events from `fromSeqNo` on, read with `reader`. */
export async function history<Event>(
  reader: EventReader<Event>,
  id: string,
  fromSeqNo: number,
  describe: (event: Event) => string,
): Promise<string[]> {
  const lines: string[] = [];
  for await (const envelope of reader.eventsById(id, fromSeqNo)) {
    lines.push(historyLine(envelope, describe));
  }
  return lines;
}
