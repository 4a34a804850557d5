import type { Command } from "./_context.ts";
import { JsonList } from "./_json_list.ts";
import { toJson } from "./_payload.ts";
import { formatTable } from "./_table.ts";

/** `types URL`: every entity type with its entities, events and head position. */
export const typesCommand: Command = {
  name: "types",
  positionals: ["URL"],
  options: {},
  summary: "list the entity types with their entities, events and head position",
  details: [],
  async run(context, [url]) {
    const admin = await context.open(url!, "use");
    const types = await admin.entityTypes({ signal: context.signal });
    if (context.json) context.out(toJson(types));
    else if (types.length === 0) context.out("No events");
    else {
      const rows = types.map((t) => [t.typeName, t.entities, t.events, t.headPosition]);
      formatTable(["TYPE", "ENTITIES", "EVENTS", "HEAD"], rows).forEach((l) => context.out(l));
    }
    return 0;
  },
};

/** `ids URL TYPE`: the ids of a type's entities, streamed page by page from the store. */
export const idsCommand: Command = {
  name: "ids",
  positionals: ["URL", "TYPE"],
  options: {
    limit: { kind: { min: 1 }, help: "print at most N ids" },
  },
  summary: "list the ids of a type's entities (in code unit order)",
  details: ["The store is read a page at a time, so any number of ids can be listed."],
  async run(context, [url, typeName]) {
    const admin = await context.open(url!, "use");
    const limit = context.args.numbers.get("limit") ?? Infinity;
    const list = context.json ? new JsonList(context.out) : undefined;
    let count = 0;
    for await (const id of admin.entityIds(typeName!, { signal: context.signal })) {
      if (count === limit) break;
      if (list) list.add(id);
      else context.out(id);
      count++;
    }
    list?.close();
    if (!context.json && count === 0) context.err(`No entities of type "${typeName}"`);
    return 0;
  },
};

/**
 * `projections URL [--type TYPE]`: the stored offsets, one row per type of a projection over
 * several types with its lag behind that type's head; `--type` gives the lag of the others.
 */
export const projectionsCommand: Command = {
  name: "projections",
  positionals: ["URL"],
  options: {
    type: {
      kind: "text",
      value: "TYPE",
      help: "show the lag of single-type projections behind this type's head",
    },
  },
  summary: "list the projections with their offsets and lag behind their type's head",
  details: [
    "A projection over several types has a row per type, with its lag behind that type's head.",
    "The offset store does not record which type a projection over one type reads: give it",
    "with --type to see their lag.",
  ],
  async run(context, [url]) {
    const admin = await context.open(url!, "use");
    const typeName = context.args.texts.get("type");
    if (typeName === "") throw new TypeError('Invalid --type "": it must not be empty');
    const projections = await admin.projections({ signal: context.signal });
    const typed = projections.some((p) => p.typeName !== undefined);
    let heads: Map<string, number> | undefined;
    if (typeName !== undefined || typed) {
      const types = await admin.entityTypes({ signal: context.signal });
      heads = new Map(types.map((t) => [t.typeName, t.headPosition]));
    }
    const lagOf = (type: string | undefined, offset: number) =>
      type === undefined ? undefined : Math.max(0, (heads!.get(type) ?? 0) - offset);
    const rows = projections.map((p) => ({
      name: p.name,
      ...(p.typeName === undefined ? {} : { typeName: p.typeName }),
      offset: p.offset,
      updatedAt: p.updatedAt === null ? null : new Date(p.updatedAt).toISOString(),
      ...(heads === undefined ? {} : { lag: lagOf(p.typeName ?? typeName, p.offset) ?? null }),
    }));
    if (context.json) context.out(toJson(rows));
    else if (rows.length === 0) context.out("No projections");
    else {
      const headers = [
        "NAME",
        ...(typed ? ["TYPE"] : []),
        "OFFSET",
        "UPDATED",
        ...(heads === undefined ? [] : ["LAG"]),
      ];
      const cells = rows.map((r) => [
        r.name,
        ...(typed ? [r.typeName ?? "-"] : []),
        r.offset,
        r.updatedAt ?? "-",
        ...(heads === undefined ? [] : [r.lag ?? "-"]),
      ]);
      formatTable(headers, cells).forEach((line) => context.out(line));
    }
    return 0;
  },
};
