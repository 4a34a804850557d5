import type { Command, CommandContext } from "./_context.ts";
import { deleteEntity, deleteEventsUpTo } from "../src/forget.ts";
import { toJson } from "./_payload.ts";
import { UsageError } from "./_usage_error.ts";

// Deleting cannot be undone, so both commands refuse to run without --yes, before opening the
// store.
function confirmed(context: CommandContext, what: string): void {
  if (!context.args.switches.has("yes")) {
    throw new UsageError(`Refusing to delete ${what} without --yes (it cannot be undone)`);
  }
}

/** `delete-events URL TYPE ID [--to N] --yes`: deletes an entity's events up to its snapshot. */
export const deleteEventsCommand: Command = {
  name: "delete-events",
  positionals: ["URL", "TYPE", "ID"],
  options: {
    to: {
      kind: { min: 1 },
      help: "the last seqNo to delete, covered by the snapshot (default: the snapshot's seqNo)",
    },
    yes: { kind: "switch", help: "confirm: the events are gone for good", required: true },
  },
  summary: "delete an entity's events that its snapshot covers (the last one stays); needs --yes",
  details: [
    "Refuses, deleting nothing, when the entity has no snapshot or its snapshot does not",
    "cover --to. The entity's last event always stays, so its seqNo goes on. Safe while the",
    "entity runs: it recovers from the snapshot.",
  ],
  async run(context, [url, typeName, id]) {
    confirmed(context, `events of "${typeName}/${id}"`);
    const admin = await context.open(url!, "use");
    const { deleted, toSeqNo } = await deleteEventsUpTo(admin, typeName!, id!, {
      toSeqNo: context.args.numbers.get("to"),
      signal: context.signal,
    });
    if (context.json) context.out(toJson({ typeName, id, deleted, toSeqNo }));
    else {
      context.out(
        `Entity "${typeName}/${id}": ${deleted} ${
          deleted === 1 ? "event" : "events"
        } deleted up to seqNo ${toSeqNo} (its last event stays)`,
      );
    }
    return 0;
  },
};

/** `delete-entity URL TYPE ID --yes`: deletes an entity's snapshot and every event. */
export const deleteEntityCommand: Command = {
  name: "delete-entity",
  positionals: ["URL", "TYPE", "ID"],
  options: {
    yes: { kind: "switch", help: "confirm: the entity is gone for good", required: true },
  },
  summary: "delete an entity's snapshot and all its events, freeing the id; needs --yes",
  details: [
    "Stop the entity everywhere first: one still running could write an event or a snapshot",
    "that outlives the deletion. The snapshot goes first, so a run cut short can be repeated.",
  ],
  async run(context, [url, typeName, id]) {
    confirmed(context, `entity "${typeName}/${id}"`);
    const admin = await context.open(url!, "use");
    const { deleted } = await deleteEntity(admin, typeName!, id!, { signal: context.signal });
    if (context.json) context.out(toJson({ typeName, id, deleted }));
    else {
      context.out(
        `Entity "${typeName}/${id}" deleted: ${deleted} ${
          deleted === 1 ? "event" : "events"
        } and its snapshot`,
      );
    }
    return 0;
  },
};
