import { COMMANDS, GLOBAL_OPTIONS } from "./_commands.ts";
import type { Command, OptionHelp } from "./_context.ts";
import { formatTable } from "./_table.ts";

const URL_FORMS = [
  "  postgres://user:password@host:5432/db   a PostgreSQL server (also postgresql://)",
  "  pglite:./data                           a PGlite data directory (also file:///abs/path)",
  "  nats://host:4222                        NATS over TCP (token: nats://TOKEN@host)",
  "  ws://host:8080 or wss://host            NATS over WebSocket",
];

function optionLines(options: Readonly<Record<string, OptionHelp>>): string[] {
  const rows = Object.entries(options).map(([name, option]) => [
    `  --${name}${valueOf(option)}`,
    option.help,
  ]);
  return formatTable(["", ""], rows).slice(1);
}

const valueOf = ({ kind, value }: OptionHelp) =>
  kind === "switch" ? "" : ` ${value ?? (kind === "text" ? "VALUE" : "N")}`;

/** The usage line of `command`. */
export function usageOf(command: Command): string {
  const options = Object.entries(command.options).filter(([, o]) => o.inUsage !== false).map((
    [name, option],
  ) => option.required ? `--${name}${valueOf(option)}` : `[--${name}${valueOf(option)}]`);
  return ["eventsourced", command.name, ...command.positionals, ...options].join(" ");
}

/** The tool's `--help`: the commands and the URL forms. */
export function globalHelp(): string[] {
  return [
    "eventsourced: look inside an event store, set it up, copy it",
    "",
    "Usage: eventsourced COMMAND [ARGS] [OPTIONS]   (eventsourced COMMAND --help for more)",
    "",
    "Commands:",
    ...formatTable(["", ""], COMMANDS.map((c) => [`  ${c.name}`, c.summary])).slice(1),
    "",
    "Store URLs:",
    ...URL_FORMS,
    "",
    "Options of every command:",
    ...optionLines(GLOBAL_OPTIONS),
    "",
    "Exit codes: 0 ok, 1 failure, 2 usage error.",
  ];
}

/** The `--help` of one command. */
export function commandHelp(command: Command): string[] {
  return [
    `${command.name}: ${command.summary}`,
    "",
    `Usage: ${usageOf(command)} [OPTIONS]`,
    ...(command.details.length > 0 ? ["", ...command.details] : []),
    ...(Object.keys(command.options).length > 0
      ? ["", "Options:", ...optionLines(command.options)]
      : []),
    "",
    "Options of every command:",
    ...optionLines(GLOBAL_OPTIONS),
    "",
    "Store URLs:",
    ...URL_FORMS,
  ];
}
