// A load writer run as a child process by the fault tests. It spawns entities of the tagged
// counter on PostgreSQL or NATS and sends each, one command after the other, commands tagged
// `<prefix>.<entity>.<n>`. It prints, one per line:
//   ready
//   send <id> <tag>
//   ack <id> <tag> <state>
//   fail <id> <tag> <reason> <conflict:0|1>
//   done <id>            (the entity reached acksPerEntity)
//   finished
// A crash test kills it with SIGKILL at any moment; a split-brain test lets two of them race.

import process from "node:process";
import { writeSync } from "node:fs";
import {
  type EntityRef,
  type EventLog,
  isConcurrencyError,
  isHandleCommandError,
  spawn,
} from "../../mod.ts";
import { PostgresEventLog } from "../../adapters/postgres/mod.ts";
import { NatsEventLog } from "../../adapters/nats/mod.ts";
import { add, amountOf, taggedBinarize, taggedCounter, type TaggedEvent } from "./load.ts";

/** What the parent passes as the one argument (JSON). */
export interface WriterConfig {
  backend: "postgres" | "nats";
  url: string;
  typeName: string;
  ids: string[];
  /** Tags start with this, so two writers never share a tag. */
  prefix: string;
  /** Stop an entity after this many acknowledged commands; none: run until killed. */
  acksPerEntity?: number;
  /** Most commands per entity, so a writer left alone still ends. */
  maxCommands: number;
  /** After "ready", wait for a line on stdin before sending (so two writers start together). */
  waitForGo?: boolean;
}

const config = JSON.parse(process.argv[process.argv.length - 1]!) as WriterConfig;
// Synchronous, unbuffered writes: a line is in the pipe before the next step, so a SIGKILL
// never swallows the "send" of a command that reached the log.
const encoder = new TextEncoder();
function out(line: string): void {
  const bytes = encoder.encode(`${line}\n`);
  for (let offset = 0; offset < bytes.length;) {
    try {
      offset += writeSync(1, bytes, offset);
    } catch (error) {
      if ((error as { code?: string }).code !== "EAGAIN") throw error;
    }
  }
}

let eventLog: EventLog & { close(): Promise<void> };
if (config.backend === "postgres") {
  eventLog = await PostgresEventLog.connect({ url: config.url, max: 4 });
} else {
  eventLog = await NatsEventLog.connect({ servers: config.url, timeout: 2_000 });
}
const entity = taggedCounter(config.typeName);
const refs: EntityRef<number, TaggedEvent>[] = [];
for (const id of config.ids) {
  refs.push(await spawn(entity, id, { eventLog, binarize: taggedBinarize }));
}
out("ready");
if (config.waitForGo) {
  await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
  process.stdin.pause();
}

async function worker(index: number): Promise<void> {
  const ref = refs[index]!;
  let acks = 0;
  for (let n = 0; n < config.maxCommands; n++) {
    const tag = `${config.prefix}.${index}.${n}`;
    out(`send ${ref.id} ${tag}`);
    try {
      const result = await ref.handleCommand(add(tag, amountOf(tag)));
      if (!result.ok) throw new Error("the counter never rejects");
      out(`ack ${ref.id} ${tag} ${result.value}`);
      acks++;
      if (config.acksPerEntity !== undefined && acks >= config.acksPerEntity) break;
    } catch (error) {
      const reason = isHandleCommandError(error) ? error.reason : "not-a-handle-command-error";
      const conflict = isHandleCommandError(error) && isConcurrencyError(error.cause) ? 1 : 0;
      out(`fail ${ref.id} ${tag} ${reason} ${conflict}`);
      if (!conflict) console.error(error);
    }
  }
  out(`done ${ref.id}`);
}

await Promise.all(refs.map((_, i) => worker(i)));
for (const ref of refs) await ref.stop();
await eventLog.close();
out("finished");
process.exit(0);
