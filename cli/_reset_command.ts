import type { Command } from "./_context.ts";
import { toJson } from "./_payload.ts";
import { UsageError } from "./_usage_error.ts";

/**
 * `reset-projection URL NAME [--to N] [--type TYPE] --yes`: moves a projection's stored
 * offsets, or one type's of a projection over several types.
 */
export const resetProjectionCommand: Command = {
  name: "reset-projection",
  positionals: ["URL", "NAME"],
  options: {
    to: { kind: { min: 0 }, help: "the offset to set: the last position processed (default 0)" },
    type: {
      kind: "text",
      value: "TYPE",
      help: "of a projection over several types, reset only this type's offset",
    },
    yes: {
      kind: "switch",
      help: "confirm: the projection will process events again",
      required: true,
    },
  },
  summary: "set a projection's offset (0: rebuild from the start); needs --yes",
  details: [
    "Without --type, every offset of the name is set (each type's of a projection over",
    "several types). Fails, changing nothing, while a runner holds the projection, and for a",
    "name (or with --type, a type of the name) the store does not hold.",
  ],
  async run(context, [url, name]) {
    if (!context.args.switches.has("yes")) {
      throw new UsageError(
        `Refusing to reset projection "${name}" without --yes (it will process events again)`,
      );
    }
    const to = context.args.numbers.get("to") ?? 0;
    const typeName = context.args.texts.get("type");
    if (typeName === "") throw new TypeError('Invalid --type "": it must not be empty');
    const admin = await context.open(url!, "use");
    const projections = await admin.projections({ signal: context.signal });
    const ofName = projections.filter((p) => p.name === name);
    if (ofName.length === 0) {
      const known = [...new Set(projections.map((p) => `"${p.name}"`))].join(", ") || "none";
      throw new Error(`No projection "${name}" in the store (known: ${known})`);
    }
    const before = typeName === undefined ? ofName : ofName.filter((p) => p.typeName === typeName);
    if (before.length === 0) {
      const known = ofName.flatMap((p) => p.typeName === undefined ? [] : [`"${p.typeName}"`]);
      throw new Error(
        `Projection "${name}" has no offset of type "${typeName}" (types: ${
          known.join(", ") || "none, it reads one type"
        })`,
      );
    }
    await admin.resetProjection(name!, to, { signal: context.signal, typeName });
    const label = (p: { typeName?: string }) =>
      p.typeName === undefined
        ? `Projection "${name}"`
        : `Projection "${name}" type "${p.typeName}"`;
    if (context.json) {
      const changes = before.map((p) => ({
        name,
        ...(p.typeName === undefined ? {} : { typeName: p.typeName }),
        from: p.offset,
        to,
      }));
      // One offset moved: an object, as for a projection over one type; several: an array.
      context.out(toJson(changes.length === 1 ? changes[0] : changes));
    } else {
      for (const p of before) context.out(`${label(p)}: offset ${p.offset} -> ${to}`);
    }
    return 0;
  },
};
