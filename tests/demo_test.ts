import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import postgres from "postgres";
import { startPostgres } from "./_servers/postgres.ts";

// Runs the bank demo as a user would, with the runtime running this test: Deno and Bun run
// the TypeScript source, Node the compiled copy beside this file's own compiled copy.
function demoCommand(args: string[]): [string, string[]] {
  const root = process.cwd();
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (g.Deno) {
    return [process.execPath, ["run", "-A", join(root, "examples/bank/main.ts"), ...args]];
  }
  if (g.Bun) return [process.execPath, ["run", join(root, "examples/bank/main.ts"), ...args]];
  return [process.execPath, [join(root, "dist/npm/examples/bank/main.js"), ...args]];
}

function runDemo(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  const [command, commandArgs] = demoCommand(args);
  const env = { ...process.env, ...options.env };
  return new Promise((resolve, reject) => {
    execFile(
      command,
      commandArgs,
      { timeout: 120_000, cwd: options.cwd, env },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`demo failed: ${error.message}\n${stdout}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

function balances(output: string, when: "start" | "end"): string {
  const line = output.split("\n").find((l) => l.startsWith(`Balances at ${when}:`));
  assert.ok(line, `no "Balances at ${when}" line in:\n${output}`);
  return line.slice(`Balances at ${when}:`.length).trim();
}

// The read model's rows: "  <account>: balance €x, transfers in n, out m, last activity <ISO>".
function readModel(output: string): Map<string, [string, number, number]> {
  assert.match(output, /^Read model "bank-activity" over accounts and transfers \(/m);
  const rows = new Map<string, [string, number, number]>();
  const row =
    /^ {2}(\w+): balance (€[\d.]+), transfers in (\d+), out (\d+), last activity (\S+)$/gm;
  for (const match of output.matchAll(row)) {
    assert.ok(!Number.isNaN(Date.parse(match[5]!)), match[0]);
    rows.set(match[1]!, [match[2]!, Number(match[3]), Number(match[4])]);
  }
  return rows;
}

/**
 * The read model adds up: its balances are the accounts' balances at the end, and it counts
 * `transfers` completed transfers from alice to bob (this run's and earlier runs' in the store).
 */
function checkReadModel(output: string, transfers: number): void {
  const [alice, bob] = balances(output, "end").match(/€[\d.]+/g)!;
  assert.deepEqual(
    readModel(output),
    new Map([["alice", [alice!, 0, transfers]], ["bob", [bob!, transfers, 0]]]),
    output,
  );
}

// The printed history: "  account alice" or "  transfer <id>" headings, each followed by one
// "    #seqNo <ISO time> <event> <metadata>" line per event.
function history(output: string): Map<string, string[]> {
  const start = output.indexOf("Event history of this run");
  assert.ok(start >= 0, `no event history in:\n${output}`);
  const sections = new Map<string, string[]>();
  let lines: string[] = [];
  for (const line of output.slice(start).split("\n").slice(1)) {
    if (line.startsWith("    ")) lines.push(line.trim());
    else if (line.startsWith("  ")) sections.set(line.trim(), lines = []);
  }
  return sections;
}

/**
 * Checks one run's output: the retried deposit and the re-run transfer step are duplicates,
 * and the history shows every event of the run with a time within the run and the metadata
 * that says why it was written.
 */
function checkRun(output: string, startedAt: number): void {
  const endedAt = Date.now();
  assert.match(
    output,
    /^The same deposit again \(commandId \S+:salary\): duplicate of event #\d+, nothing written$/m,
  );
  assert.match(output, /^Withdraw €1000\.00 from bob: rejected \(InsufficientFunds\)/m);
  const transferId = (amount: string, outcome: string) => {
    const match = output.match(
      new RegExp(`^Transfer (\\S+) of ${amount} alice -> bob: ${outcome}$`, "m"),
    );
    assert.ok(match, `no transfer of ${amount} that ${outcome} in:\n${output}`);
    return match[1]!;
  };
  const completed = transferId("€30\\.00", "completed");
  const declined = transferId(
    "€500\\.00",
    "declined \\(insufficient funds: balance €70\\.00, requested €500\\.00\\)",
  );
  const resumed = transferId(
    "€20\\.00",
    "crashed after the withdrawal, resumed: completed; steps answered as duplicates: debit",
  );

  const sections = history(output);
  for (const [heading, lines] of sections) {
    for (const line of lines) {
      const match = line.match(/^#\d+ (\S+) /);
      assert.ok(match, `${heading}: ${line}`);
      const writtenAt = Date.parse(match[1]!);
      // The store's clock may differ a little from this process's: a minute either way.
      assert.ok(
        writtenAt > startedAt - 60_000 && writtenAt < endedAt + 60_000,
        `${heading}: written at ${match[1]}, not during the run`,
      );
    }
  }
  const section = (heading: string) => {
    const lines = sections.get(heading);
    assert.ok(lines, `no "${heading}" in the history:\n${output}`);
    return lines;
  };
  const step = (id: string, step: string, cause?: string) =>
    `command=${id}:${step} correlation=${id}${cause ? ` causation=${id}:${cause}` : ""}`;
  const has = (heading: string, pattern: string) =>
    assert.ok(
      section(heading).some((line) => line.includes(pattern)),
      `no "${pattern}" under "${heading}":\n${section(heading).join("\n")}`,
    );
  assert.match(
    section("account alice")[0]!,
    /deposited €100\.00 +command=\S+:salary channel=payroll$/,
  );
  assert.equal(
    section("account alice").filter((line) => line.includes(":salary")).length,
    1,
    "the retried deposit was written once",
  );
  for (const id of [completed, resumed]) {
    has("account alice", step(id, "debit", "request"));
    has("account bob", step(id, "credit", "debited"));
    const lines = section(`transfer ${id}`);
    assert.equal(lines.length, 3, lines.join("\n"));
    assert.match(lines[0]!, new RegExp(`requested .* ${step(id, "request")}$`));
    assert.match(lines[1]!, new RegExp(`debited .* ${step(id, "debited", "debit")}$`));
    assert.match(lines[2]!, new RegExp(`credited .* ${step(id, "credited", "credit")}$`));
  }
  assert.equal(
    section("account alice").filter((line) => line.includes(`${resumed}:debit`)).length,
    1,
    "the re-run withdrawal was written once",
  );
  const lines = section(`transfer ${declined}`);
  assert.equal(lines.length, 2, lines.join("\n"));
  assert.match(lines[1]!, new RegExp(`declined .* ${step(declined, "declined", "debit")}$`));
}

test("the bank demo on PGlite recovers the first run's balances in the second run", {
  timeout: 240_000,
}, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "eventsourced-demo-"));
  try {
    const startedAt = Date.now();
    const first = await runDemo(["--data-dir", dataDir]);
    assert.match(first, /Storage: PGlite/);
    assert.equal(balances(first, "start"), "alice €0.00, bob €0.00");
    assert.equal(balances(first, "end"), "alice €50.00, bob €50.00");
    checkRun(first, startedAt);
    checkReadModel(first, 2);
    assert.match(first, /over accounts and transfers \(exactly once, in PGlite\)/);
    const second = await runDemo(["--data-dir", dataDir]);
    assert.equal(balances(second, "start"), balances(first, "end"));
    assert.equal(balances(second, "end"), "alice €100.00, bob €100.00");
    assert.match(second, /^The same deposit again .*: duplicate/m);
    // The projection resumed from its offsets: every event of both runs counted once.
    checkReadModel(second, 4);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("in a fresh folder the demo creates its default data directory, ./.data", {
  timeout: 240_000,
}, async () => {
  const folder = mkdtempSync(join(tmpdir(), "eventsourced-demo-cwd-"));
  try {
    const output = await runDemo([], { cwd: folder });
    assert.match(output, /Storage: PGlite in \.\/\.data\/bank-demo/);
    assert.equal(balances(output, "end"), "alice €50.00, bob €50.00");
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test("the bank demo runs in memory, with JSON and with protobuf", {
  timeout: 120_000,
}, async () => {
  for (const codec of ["json", "protobuf"]) {
    const startedAt = Date.now();
    const output = await runDemo(["--memory", "--codec", codec]);
    assert.match(output, new RegExp(`codec: ${codec}`));
    assert.equal(balances(output, "end"), "alice €50.00, bob €50.00");
    checkRun(output, startedAt);
    checkReadModel(output, 2);
  }
});

test("the bank demo on PostgreSQL (DATABASE_URL) recovers the first run in the second", {
  timeout: 240_000,
}, async () => {
  const server = await startPostgres({ fsync: false });
  // A database of its own, so a server named by PG_URL starts the demo from nothing too.
  const database = `bank_demo_${Date.now().toString(36)}`;
  const admin = postgres(server.url, { max: 1, onnotice: () => {}, fetch_types: false });
  try {
    await admin.unsafe(`create database ${database}`);
    const url = new URL(server.url);
    url.pathname = `/${database}`;
    const env = { DATABASE_URL: url.href };
    for (const codec of ["json", "protobuf"]) {
      const startedAt = Date.now();
      const first = await runDemo(["--codec", codec], { env });
      assert.match(first, /Storage: PostgreSQL at /);
      assert.equal(balances(first, "start"), "alice €0.00, bob €0.00");
      checkRun(first, startedAt);
      checkReadModel(first, 2);
      const second = await runDemo(["--codec", codec], { env });
      assert.equal(balances(second, "start"), "alice €50.00, bob €50.00");
      assert.equal(balances(second, "end"), "alice €100.00, bob €100.00");
      checkReadModel(second, 4);
    }
  } finally {
    await admin.unsafe(`drop database if exists ${database} with (force)`).catch(() => {});
    await admin.end();
    await server.stop();
  }
});
