import type { Command, OptionHelp } from "./_context.ts";
import { eventsCommand, snapshotCommand, tailCommand } from "./_event_commands.ts";
import { idsCommand, projectionsCommand, typesCommand } from "./_list_commands.ts";
import { resetProjectionCommand } from "./_reset_command.ts";
import { deleteEntityCommand, deleteEventsCommand } from "./_delete_commands.ts";
import { schemaCommand, setupCommand } from "./_schema_commands.ts";
import { copyCommand, verifyCommand } from "./_store_commands.ts";

/** Every command of the tool, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [
  setupCommand,
  schemaCommand,
  typesCommand,
  idsCommand,
  eventsCommand,
  snapshotCommand,
  tailCommand,
  projectionsCommand,
  resetProjectionCommand,
  deleteEventsCommand,
  deleteEntityCommand,
  verifyCommand,
  copyCommand,
];

/** The options every command takes. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionHelp>> = {
  json: { kind: "switch", help: "print JSON on stdout (messages stay on stderr)" },
  timeout: { kind: { min: 1 }, help: "ms to wait for a server to answer (default 5000)" },
  schema: { kind: "text", help: "SQL: the schema of the tables (default public)" },
  "table-prefix": { kind: "text", help: "SQL: the table name prefix (default eventsourced_)" },
  stream: { kind: "text", help: "NATS: the JetStream stream (default eventsourced)" },
  "subject-prefix": { kind: "text", help: "NATS: the subject prefix (default eventsourced)" },
  "snapshot-bucket": {
    kind: "text",
    help: "NATS: the snapshots' KV bucket (default eventsourced-snapshots)",
  },
  "offset-bucket": {
    kind: "text",
    help: "NATS: the offsets' KV bucket (default eventsourced_projection_offsets)",
  },
  help: { kind: "switch", help: "show this help" },
};
