import type { Command } from "./_context.ts";
import { toJson } from "./_payload.ts";
import { UsageError } from "./_usage_error.ts";

/** `reset-projection URL NAME [--to N] --yes`: moves a projection's stored offset. */
export const resetProjectionCommand: Command = {
  name: "reset-projection",
  positionals: ["URL", "NAME"],
  options: {
    to: { kind: { min: 0 }, help: "the offset to set: the last position processed (default 0)" },
    yes: {
      kind: "switch",
      help: "confirm: the projection will process events again",
      required: true,
    },
  },
  summary: "set a projection's offset (0: rebuild from the start); needs --yes",
  details: [
    "Fails, changing nothing, while a runner holds the projection, and for a name the store",
    "does not hold.",
  ],
  async run(context, [url, name]) {
    if (!context.args.switches.has("yes")) {
      throw new UsageError(
        `Refusing to reset projection "${name}" without --yes (it will process events again)`,
      );
    }
    const to = context.args.numbers.get("to") ?? 0;
    const admin = await context.open(url!, "use");
    const projections = await admin.projections({ signal: context.signal });
    const before = projections.find((p) => p.name === name);
    if (before === undefined) {
      const known = projections.map((p) => `"${p.name}"`).join(", ") || "none";
      throw new Error(`No projection "${name}" in the store (known: ${known})`);
    }
    await admin.resetProjection(name!, to, { signal: context.signal });
    if (context.json) context.out(toJson({ name, from: before.offset, to }));
    else context.out(`Projection "${name}": offset ${before.offset} -> ${to}`);
    return 0;
  },
};
