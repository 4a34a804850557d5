// The bank demo: accounts that refuse to go negative, and transfers between them that are
// entities of their own. Run it twice: the second run recovers the first run's balances.
//
//   npm run demo                 (Node, PGlite in ./.data/bank-demo)
//   deno task demo               (Deno, same)
//   npm run demo -- --memory     (nothing kept)
//   npm run demo -- --codec protobuf   (events as protobuf, from examples/proto/bank.proto)
//   DATABASE_URL=postgres://… npm run demo

import { EntityRegistry, jsonBinarize } from "../../mod.ts";
import {
  type Account,
  account,
  type AccountEvent,
  balance,
  deposit,
  euros,
  withdraw,
} from "./account.ts";
import { request, runTransfer, type Transfer, transfer, type TransferEvent } from "./transfer.ts";
import { openStorage } from "./storage.ts";
import { accountBinarize, transferBinarize } from "../proto/bank_codec.ts";

const process = (globalThis as unknown as {
  process: { argv: string[]; env: Record<string, string | undefined> };
}).process;
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

const codec = flag("--codec") ?? "json";
if (codec !== "json" && codec !== "protobuf") {
  throw new TypeError(`Invalid --codec "${codec}": expected "json" or "protobuf"`);
}
const storage = await openStorage({
  memory: args.includes("--memory"),
  databaseUrl: flag("--database-url") ?? process.env.DATABASE_URL,
  codec,
  ...(flag("--data-dir") ? { dataDir: flag("--data-dir")! } : {}),
});
console.log(`Storage: ${storage.description}; codec: ${codec}`);

const common = {
  eventLog: storage.eventLog,
  snapshotStore: storage.snapshotStore,
  snapshotAfter: 10,
};
const accounts = new EntityRegistry(account, {
  ...common,
  binarize: codec === "json" ? jsonBinarize<AccountEvent, Account>() : accountBinarize(),
});
const transfers = new EntityRegistry(transfer, {
  ...common,
  binarize: codec === "json" ? jsonBinarize<TransferEvent, Transfer>() : transferBinarize(),
});

const show = async (id: string) => {
  const result = await accounts.handleCommand(id, balance);
  return result.ok ? euros(result.value) : "?";
};

console.log(`Balances at start: alice ${await show("alice")}, bob ${await show("bob")}`);
const run = Date.now().toString(36);

const deposited = await accounts.handleCommand("alice", deposit(100_00, `${run}:salary`));
console.log(
  `Deposit €100.00 to alice: ${deposited.ok ? `balance ${euros(deposited.value)}` : "rejected"}`,
);

const tooMuch = await accounts.handleCommand("bob", withdraw(1_000_00, `${run}:atm`));
console.log(
  `Withdraw €1000.00 from bob: ${
    tooMuch.ok ? `balance ${euros(tooMuch.value)}` : `rejected (${tooMuch.error.type})`
  }`,
);

for (const [n, amount] of [[1, 30_00], [2, 500_00]] as const) {
  const id = `${run}-${n}`;
  await transfers.handleCommand(id, request("alice", "bob", amount));
  const done = await runTransfer(transfers, accounts, id);
  console.log(
    `Transfer ${id} of ${euros(amount)} alice -> bob: ${done.status}${
      done.reason ? ` (${done.reason})` : ""
    }`,
  );
}

console.log(`Balances at end: alice ${await show("alice")}, bob ${await show("bob")}`);
await accounts.close();
await transfers.close();
await storage.close();
