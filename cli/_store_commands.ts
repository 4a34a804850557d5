import { copyStore } from "../admin/copy_store.ts";
import { verifyLog } from "../admin/verify_log.ts";
import { loadCodec } from "./_codec_module.ts";
import type { Command } from "./_context.ts";
import { toJson } from "./_payload.ts";
import { UsageError } from "./_usage_error.ts";

/** `verify URL [--codec MODULE]`: dense seqNos, ordered positions, decodable events. */
export const verifyCommand: Command = {
  name: "verify",
  positionals: ["URL"],
  options: {
    codec: {
      kind: "text",
      value: "MODULE",
      help: "also check that every event decodes with this module's default export",
    },
    "max-problems": { kind: { min: 1 }, help: "list at most N problems (default 100)" },
  },
  summary: "check a log: dense seqNos, rising positions, decodable events, snapshots",
  details: [
    "Exit code 1 when a problem is found; each is listed (with --json, in the report).",
    "Positions must be dense (1, 2, 3 …) per type on SQL stores, rising on NATS.",
  ],
  async run(context, [url]) {
    const specifier = context.args.texts.get("codec");
    const codec = specifier === undefined ? undefined : { decode: await loadCodec(specifier) };
    const maxProblems = context.args.numbers.get("max-problems");
    const admin = await context.open(url!, "use");
    const report = await verifyLog(admin, {
      codec,
      signal: context.signal,
      maxProblems,
      onProgress: (p) =>
        context.err(`verify: ${p.typeName}: ${p.events} events, ${p.problems} problems`),
    });
    if (context.json) context.out(toJson(report));
    else {
      for (const problem of report.problems) context.out(`${problem.kind}: ${problem.message}`);
      if (report.truncated) context.out("(more problems not listed: see --max-problems)");
      context.out(
        `${report.ok ? "OK" : "PROBLEMS"}: ${report.types} types, ${report.entities} entities, ` +
          `${report.events} events, ${report.snapshots} snapshots checked in ` +
          `${Math.round(report.elapsedMs)} ms`,
      );
    }
    return report.ok ? 0 : 1;
  },
};

// The names of the copy's target, beside the global ones that name its source.
const TARGET_NAMES = Object.fromEntries(
  ["schema", "table-prefix", "stream", "subject-prefix", "snapshot-bucket", "offset-bucket"].map(
    (name) => [`to-${name}`, { kind: "text" as const, help: `TO's --${name}`, inUsage: false }],
  ),
);

/** `copy FROM TO`: every event and the latest snapshots, resumable, verified. */
export const copyCommand: Command = {
  name: "copy",
  positionals: ["FROM", "TO"],
  options: {
    force: {
      kind: "switch",
      help: "write into a target that holds other data (needs --yes)",
    },
    yes: { kind: "switch", help: "confirm --force" },
    "batch-size": { kind: { min: 1 }, help: "events per write (default 500)" },
    "no-verify": { kind: "switch", help: "skip the verification at the end" },
    ...TARGET_NAMES,
  },
  summary: "copy every event and the latest snapshots to another store, then verify",
  details: [
    "The target must be set up (eventsourced setup TO) and empty, or hold an interrupted",
    "copy of the same source: running copy again resumes it. Progress goes to stderr.",
    "Projection offsets are not copied. --schema, --stream etc. name FROM's tables or",
    "stream; --to-schema, --to-stream etc. name TO's.",
  ],
  async run(context, [from, to]) {
    const force = context.args.switches.has("force");
    if (force && !context.args.switches.has("yes")) {
      throw new UsageError("Refusing --force without --yes (it writes beside the target's data)");
    }
    const source = await context.open(from!, "use");
    const target = await context.open(to!, "use", "to-");
    const report = await copyStore(source, target, {
      force,
      signal: context.signal,
      verify: !context.args.switches.has("no-verify"),
      batchSize: context.args.numbers.get("batch-size"),
      onProgress: (p) =>
        context.err(
          `copy: ${p.phase} ${p.typeName}: ${p.events}/${p.totalEvents} events, ` +
            `${p.snapshots} snapshots`,
        ),
    });
    if (context.json) context.out(toJson(report));
    else {
      context.out(
        `Copied ${report.copiedEvents} events (${report.resumedEvents} already there) of ` +
          `${report.entities} entities in ${report.types} types, ${report.snapshots} snapshots, ` +
          `in ${Math.round(report.elapsedMs)} ms${
            report.verification === null ? "" : "; verified"
          }`,
      );
    }
    return report.verification === null || report.verification.ok ? 0 : 1;
  },
};
