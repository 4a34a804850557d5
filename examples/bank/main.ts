// The bank demo: accounts that refuse to go negative, and transfers between them that are
// entities of their own. Every command carries metadata: a commandId (so a retry is answered
// as a duplicate instead of being applied twice) and, for a transfer's steps, the transfer's
// id as correlation id. At the end it prints the history of this run's events: when and why
// each was written. Run it twice: the second run recovers the first run's balances.
//
//   npm run demo                 (Node, PGlite in ./.data/bank-demo)
//   deno task demo               (Deno, same)
//   npm run demo -- --memory     (nothing kept)
//   npm run demo -- --codec protobuf   (events as protobuf, from examples/proto/bank.proto)
//   DATABASE_URL=postgres://… npm run demo

import { EntityRegistry, EventReader, jsonBinarize } from "../../mod.ts";
import {
  type Account,
  account,
  type AccountEvent,
  balance,
  deposit,
  euros,
  withdraw,
} from "./account.ts";
import {
  request,
  runTransfer,
  stepMetadata,
  type Transfer,
  transfer,
  type TransferEvent,
} from "./transfer.ts";
import { history } from "./history.ts";
import { openStorage } from "./storage.ts";
import { activityProjection } from "./activity.ts";
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

const { eventLog, snapshotStore } = storage;
const accountCodec = codec === "json" ? jsonBinarize<AccountEvent, Account>() : accountBinarize();
const transferCodec = codec === "json"
  ? jsonBinarize<TransferEvent, Transfer>()
  : transferBinarize();
const accounts = new EntityRegistry(account, {
  eventLog,
  snapshotStore,
  snapshotAfter: 10,
  binarize: accountCodec,
});
const transfers = new EntityRegistry(transfer, {
  eventLog,
  snapshotStore,
  snapshotAfter: 10,
  binarize: transferCodec,
});

// The read model over accounts and transfers follows the log from its stored offsets (a second
// run picks up where the first one's left off).
const activity = activityProjection(storage.activity, eventLog, {
  account: accountCodec,
  transfer: transferCodec,
});
await activity.run();

const show = async (id: string) => {
  const result = await accounts.handleCommand(id, balance);
  return result.ok ? euros(result.value) : "?";
};

console.log(`Balances at start: alice ${await show("alice")}, bob ${await show("bob")}`);
// Where this run's events begin, for the history at the end.
const firstSeqNo = {
  alice: (await eventLog.lastSeqNo("account", "alice") ?? 0) + 1,
  bob: (await eventLog.lastSeqNo("account", "bob") ?? 0) + 1,
};
const run = Date.now().toString(36);

const salary = {
  metadata: { commandId: `${run}:salary`, headers: { channel: "payroll" } },
};
const deposited = await accounts.handleCommand(
  "alice",
  deposit(100_00, `${run}:salary`),
  salary,
);
console.log(
  `Deposit €100.00 to alice: ${
    "duplicate" in deposited
      ? "duplicate"
      : deposited.ok
      ? `balance ${euros(deposited.value)}`
      : "rejected"
  }`,
);
// The payroll did not hear the answer and sends the deposit again, after alice's entity was
// stopped (as after a restart): recovered from the log, it knows the commandId.
await accounts.passivate("alice");
const again = await accounts.handleCommand("alice", deposit(100_00, `${run}:salary`), salary);
console.log(
  `The same deposit again (commandId ${salary.metadata.commandId}): ${
    "duplicate" in again
      ? `duplicate of event #${again.seqNo}, nothing written`
      : "booked again (the log lost the commandId)"
  }`,
);

const tooMuch = await accounts.handleCommand("bob", withdraw(1_000_00, `${run}:atm`), {
  metadata: { commandId: `${run}:atm`, headers: { channel: "atm" } },
});
console.log(
  `Withdraw €1000.00 from bob: ${
    tooMuch.ok ? "done" : `rejected (${tooMuch.error.type}), nothing written`
  }`,
);

const transferIds: string[] = [];
for (
  const [n, amount, crash] of [[1, 30_00, false], [2, 500_00, false], [3, 20_00, true]] as const
) {
  const id = `${run}-${n}`;
  transferIds.push(id);
  await transfers.handleCommand(id, request("alice", "bob", amount), {
    metadata: stepMetadata(id, "request"),
  });
  let crashed = "";
  if (crash) {
    // Act out a crash right after the withdrawal, before the transfer recorded it; then a
    // restart: the entities recover from the log, and the transfer is run again from there.
    await runTransfer(transfers, accounts, id, { stopAfterDebit: true });
    await transfers.passivate(id);
    await accounts.passivate("alice");
    crashed = "crashed after the withdrawal, resumed: ";
  }
  const done = await runTransfer(transfers, accounts, id);
  const { status, reason } = done.transfer;
  const duplicates = done.duplicates.length === 0
    ? ""
    : `; steps answered as duplicates: ${done.duplicates.join(", ")}`;
  console.log(
    `Transfer ${id} of ${euros(amount)} alice -> bob: ${crashed}${status}${
      reason ? ` (${reason})` : ""
    }${duplicates}`,
  );
}

console.log(`Balances at end: alice ${await show("alice")}, bob ${await show("bob")}`);

await activity.whenCaughtUp({ signal: AbortSignal.timeout(60_000) });
await activity.stop();
console.log(
  `Read model "${activity.name}" over accounts and transfers (${storage.activity.delivery}):`,
);
for (const row of await storage.activity.tables.list()) {
  console.log(
    `  ${row.account}: balance ${
      euros(row.balance)
    }, transfers in ${row.transfersIn}, out ${row.transfersOut}, last activity ${
      new Date(row.lastActivity).toISOString()
    }`,
  );
}

console.log("Event history of this run (seqNo, written at, event, metadata):");
const accountReader = new EventReader(account, { eventLog, binarize: accountCodec });
const describeAccountEvent = (event: AccountEvent) => `${event.type} ${euros(event.amount)}`;
for (const id of ["alice", "bob"] as const) {
  console.log(`  account ${id}`);
  for (const line of await history(accountReader, id, firstSeqNo[id], describeAccountEvent)) {
    console.log(`    ${line}`);
  }
}
const transferReader = new EventReader(transfer, { eventLog, binarize: transferCodec });
const describeTransferEvent = (event: TransferEvent) =>
  event.type === "requested"
    ? `requested ${euros(event.amount)} ${event.from} -> ${event.to}`
    : event.type;
for (const id of transferIds) {
  console.log(`  transfer ${id}`);
  for (const line of await history(transferReader, id, 1, describeTransferEvent)) {
    console.log(`    ${line}`);
  }
}

await accounts.close();
await transfers.close();
await storage.close();
