import type { Command } from "./_context.ts";
import { toJson } from "./_payload.ts";

/** `setup URL`: creates the schema, or upgrades it; shows the version before and after. */
export const setupCommand: Command = {
  name: "setup",
  positionals: ["URL"],
  options: {},
  summary: "create the schema, or upgrade it to this release's version",
  details: [
    "Safe to run again. A PGlite data directory is created when missing.",
  ],
  async run(context, [url]) {
    const admin = await context.open(url!, "setup");
    const before = await admin.schema({ signal: context.signal });
    await admin.setup({ signal: context.signal });
    const after = await admin.schema({ signal: context.signal });
    if (context.json) {
      context.out(toJson({ from: before.installed, to: after.installed, latest: after.latest }));
    } else if (before.installed === after.installed) {
      context.out(`Schema already at version ${after.installed}`);
    } else {
      context.out(`Schema set up: version ${before.installed ?? "none"} -> ${after.installed}`);
    }
    return 0;
  },
};

/** `schema URL`: the installed and the latest schema version, changing nothing. */
export const schemaCommand: Command = {
  name: "schema",
  positionals: ["URL"],
  options: {},
  summary: "show the installed schema version and the latest one",
  details: ["Exit code 1 when the schema is missing or behind (run setup)."],
  async run(context, [url]) {
    const admin = await context.open(url!, "inspect");
    const { installed, latest } = await admin.schema({ signal: context.signal });
    const upToDate = installed === latest;
    if (context.json) context.out(toJson({ installed, latest, upToDate }));
    else if (installed === null) context.out(`No schema (latest is ${latest}): run setup`);
    else {
      context.out(
        `Schema version ${installed} of ${latest}${upToDate ? " (up to date)" : ": run setup"}`,
      );
    }
    return upToDate ? 0 : 1;
  },
};
