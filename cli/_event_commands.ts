import type { Command, CommandContext } from "./_context.ts";
import type { PersistedEvent } from "../src/event_log.ts";
import { loadCodec } from "./_codec_module.ts";
import { JsonList } from "./_json_list.ts";
import { type Decode, payloadOf, type PrintedEvent, printedEvent, toJson } from "./_payload.ts";

const codecOption = {
  kind: "text",
  value: "MODULE",
  help: "decode payloads with this module's default export (a Binarize or { decode })",
} as const;

function eventLine(event: PrintedEvent, withId: boolean): string {
  const where = withId ? `${event.id} ` : "";
  const metadata = Object.keys(event.metadata).length === 0
    ? ""
    : `  metadata ${toJson(event.metadata)}`;
  return `${where}#${event.seqNo} @${event.position} v${event.version} ${event.writtenAt}  ` +
    `${event.encoding} ${toJson(event.payload)}${metadata}`;
}

async function codecOf(context: CommandContext): Promise<Decode | undefined> {
  const specifier = context.args.texts.get("codec");
  return specifier === undefined ? undefined : await loadCodec(specifier);
}

/** `events URL TYPE ID`: an entity's events with their metadata, payloads decoded. */
export const eventsCommand: Command = {
  name: "events",
  positionals: ["URL", "TYPE", "ID"],
  options: {
    from: { kind: { min: 1 }, help: "start at this seqNo (default 1)" },
    codec: codecOption,
  },
  summary: "show an entity's events: seqNo, position, version, time, metadata, payload",
  details: [
    "Payloads are shown as JSON when they are UTF-8 JSON, else as base64; with --codec",
    "MODULE, as the module's default export decodes them (a failure to decode is an error).",
  ],
  async run(context, [url, typeName, id]) {
    const decode = await codecOf(context);
    const admin = await context.open(url!, "use");
    const from = context.args.numbers.get("from") ?? 1;
    const list = context.json ? new JsonList(context.out) : undefined;
    let count = 0;
    const events = admin.eventLog.eventsById(typeName!, id!, from, { signal: context.signal });
    for await (const event of events) {
      const printed = printedEvent(event, decode);
      if (list) list.add(printed);
      else context.out(eventLine(printed, false));
      count++;
    }
    list?.close();
    if (!context.json && count === 0) context.err(`No events of "${typeName}/${id}" from ${from}`);
    return 0;
  },
};

/** `snapshot URL TYPE ID`: an entity's latest snapshot. */
export const snapshotCommand: Command = {
  name: "snapshot",
  positionals: ["URL", "TYPE", "ID"],
  options: {},
  summary: "show an entity's latest snapshot",
  details: ["Exit code 1 when the entity has no snapshot."],
  async run(context, [url, typeName, id]) {
    const admin = await context.open(url!, "use");
    const snapshot = await admin.snapshotStore.load(typeName!, id!, { signal: context.signal });
    if (snapshot === null) {
      context.err(`No snapshot of "${typeName}/${id}"`);
      if (context.json) context.out("null");
      return 1;
    }
    const shown = {
      typeName,
      id,
      seqNo: snapshot.seqNo,
      version: snapshot.version,
      ...payloadOf(snapshot.bytes, snapshot.version, undefined),
    };
    if (context.json) context.out(toJson(shown));
    else {
      context.out(
        `#${shown.seqNo} v${shown.version}  ${shown.encoding} ${toJson(shown.payload)}`,
      );
    }
    return 0;
  },
};

/** `tail URL TYPE`: a type's events as they are written, until Ctrl-C. */
export const tailCommand: Command = {
  name: "tail",
  positionals: ["URL", "TYPE"],
  options: {
    from: { kind: { min: 1 }, help: "start at this position (default: after the head)" },
    codec: codecOption,
  },
  summary: "follow a type's events live, until Ctrl-C",
  details: ["With --json, one JSON object per line (NDJSON)."],
  async run(context, [url, typeName]) {
    const decode = await codecOf(context);
    const admin = await context.open(url!, "use");
    let from = context.args.numbers.get("from");
    if (from === undefined) {
      const types = await admin.entityTypes({ signal: context.signal });
      from = (types.find((t) => t.typeName === typeName)?.headPosition ?? 0) + 1;
    }
    context.err(`Following "${typeName}" from position ${from} (Ctrl-C ends)`);
    const events = admin.eventLog.eventsByType(typeName!, from, {
      live: true,
      signal: context.signal,
    });
    try {
      for await (const event of events as AsyncIterable<PersistedEvent>) {
        const printed = printedEvent(event, decode);
        context.out(context.json ? toJson(printed) : eventLine(printed, true));
      }
    } catch (error) {
      if (!context.signal.aborted) throw error;
    }
    context.err(`Stopped following "${typeName}"`);
    return 0;
  },
};
