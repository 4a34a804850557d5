// Crypto-shredding's cost in memory: commands persisting one event each, and the replay of an
// entity's events, with the plain JSON codec (the baseline, same run), with personal fields,
// and with whole events encrypted. Medians of --runs runs; events/s.
//
//   deno run -A bench/shredding.ts --runs 3
//   bun run bench/shredding.ts --runs 3
//   npm run build && node dist/npm/bench/shredding.js --runs 3

import {
  type Binarize,
  emitAndReply,
  type EventLog,
  type EventSourced,
  jsonBinarize,
  MemoryEventLog,
  reply,
  spawn,
} from "../mod.ts";
import { cryptoShredding, MemoryKeyStore } from "../shredding/mod.ts";
import { intFlag, parseArgs } from "./_args.ts";

type Event = { type: "visited"; email: string; n: number };
const flags = parseArgs();
const runs = intFlag(flags, "runs", 3);
const commands = intFlag(flags, "commands", 20_000);
const events = intFlag(flags, "events", 100_000);

const entity: EventSourced<number, Event> = {
  typeName: "visitor",
  initialState: 0,
  handleEvent: (n, event) => (event as Partial<Event>).n === undefined ? n : n + event.n,
};
const visit = {
  handleCommand: () =>
    emitAndReply<number, Event, number>(
      { type: "visited", email: "a@example.com", n: 1 },
      (s) => s,
    ),
};
const get = { handleCommand: (_id: string, state: number) => reply(state) };

interface Setup {
  readonly name: string;
  make(): { eventLog: EventLog; binarize: Binarize<Event, number> };
}

const plain: Setup = {
  name: "plain JSON (baseline)",
  make: () => ({ eventLog: new MemoryEventLog(), binarize: jsonBinarize<Event, number>() }),
};
function shredded(name: string, personal: "whole" | ["email"]): Setup {
  return {
    name,
    make: () => {
      const shredding = cryptoShredding({ keyStore: new MemoryKeyStore() });
      return {
        eventLog: shredding.eventLog(new MemoryEventLog()),
        binarize: shredding.binarize(jsonBinarize<Event, number>(), {
          events: personal,
          states: "none",
        }) as Binarize<Event, number>,
      };
    },
  };
}
const setups = [plain, shredded("personal field", ["email"]), shredded("whole event", "whole")];

async function persistRate(setup: Setup): Promise<number> {
  const { eventLog, binarize } = setup.make();
  const ref = await spawn(entity, "v", { eventLog, binarize });
  const start = performance.now();
  for (let i = 0; i < commands; i++) await ref.handleCommand(visit);
  const rate = commands / ((performance.now() - start) / 1000);
  await ref.stop();
  return rate;
}

async function replayRate(setup: Setup): Promise<number> {
  const { eventLog, binarize } = setup.make();
  const bytes = binarize.eventToBytes({ type: "visited", email: "a@example.com", n: 1 });
  for (let i = 0; i < events; i += 1000) {
    await eventLog.persist("visitor", "v", i === 0 ? null : i, Array(1000).fill(bytes));
  }
  const start = performance.now();
  const ref = await spawn(entity, "v", { eventLog, binarize });
  const state = await ref.handleCommand(get);
  const rate = events / ((performance.now() - start) / 1000);
  if (!state.ok || state.value !== events) throw new Error(`replay gave ${JSON.stringify(state)}`);
  await ref.stop();
  return rate;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: string[] = [];
for (const setup of setups) {
  const persist: number[] = [];
  const replay: number[] = [];
  for (let r = 0; r < runs; r++) {
    persist.push(await persistRate(setup));
    replay.push(await replayRate(setup));
  }
  rows.push(
    `| ${setup.name.padEnd(22)} | ${
      Math.round(median(persist)).toLocaleString("en").padStart(10)
    } | ${Math.round(median(replay)).toLocaleString("en").padStart(10)} |`,
  );
}
console.log(`| codec                  | commands/s |   replay/s |`);
console.log(`| ---------------------- | ---------: | ---------: |`);
for (const row of rows) console.log(row);
