import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

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

function runDemo(args: string[], cwd?: string): Promise<string> {
  const [command, commandArgs] = demoCommand(args);
  return new Promise((resolve, reject) => {
    execFile(command, commandArgs, { timeout: 120_000, cwd }, (error, stdout, stderr) => {
      if (error) reject(new Error(`demo failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

function balances(output: string, when: "start" | "end"): string {
  const line = output.split("\n").find((l) => l.startsWith(`Balances at ${when}:`));
  assert.ok(line, `no "Balances at ${when}" line in:\n${output}`);
  return line.slice(`Balances at ${when}:`.length).trim();
}

test("the bank demo on PGlite recovers the first run's balances in the second run", {
  timeout: 240_000,
}, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "eventsourced-demo-"));
  try {
    const first = await runDemo(["--data-dir", dataDir]);
    assert.match(first, /Storage: PGlite/);
    assert.equal(balances(first, "start"), "alice €0.00, bob €0.00");
    assert.match(first, /Withdraw €1000\.00 from bob: rejected \(InsufficientFunds\)/);
    assert.match(first, /Transfer \S+ of €30\.00 alice -> bob: completed/);
    assert.match(
      first,
      /Transfer \S+ of €500\.00 alice -> bob: declined \(insufficient funds: balance €70\.00, requested €500\.00\)/,
    );
    assert.equal(balances(first, "end"), "alice €70.00, bob €30.00");
    const second = await runDemo(["--data-dir", dataDir]);
    assert.equal(balances(second, "start"), balances(first, "end"));
    assert.equal(balances(second, "end"), "alice €140.00, bob €60.00");
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("in a fresh folder the demo creates its default data directory, ./.data", {
  timeout: 240_000,
}, async () => {
  const folder = mkdtempSync(join(tmpdir(), "eventsourced-demo-cwd-"));
  try {
    const output = await runDemo([], folder);
    assert.match(output, /Storage: PGlite in \.\/\.data\/bank-demo/);
    assert.equal(balances(output, "end"), "alice €70.00, bob €30.00");
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test("the bank demo runs with the protobuf codec in memory", { timeout: 120_000 }, async () => {
  const output = await runDemo(["--memory", "--codec", "protobuf"]);
  assert.match(output, /codec: protobuf/);
  assert.equal(balances(output, "end"), "alice €70.00, bob €30.00");
});
