import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

// Tests run from the repository root on every runtime (Node runs the compiled copy).
const root = process.cwd();

test("the README's quick start is examples/quick_start.ts with the package import", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Quick start"));
  const block = section.slice(section.indexOf("```ts\n") + 6, section.indexOf("```\n", 6));
  const example = readFileSync(join(root, "examples", "quick_start.ts"), "utf8");
  assert.equal(block, example.replaceAll('"../mod.ts"', '"@eventsourced/eventsourced"'));
});

test("the quick start runs and prints what its comments say", async () => {
  const printed: unknown[] = [];
  const log = console.log;
  console.log = (value: unknown) => printed.push(value);
  try {
    await import("../examples/quick_start.ts");
  } finally {
    console.log = log;
  }
  assert.deepEqual(printed, [
    { ok: true, value: 100 },
    { ok: false, error: "InsufficientFunds" },
    { ok: true, value: 70 },
    { ok: true, value: 75 },
  ]);
});

test("the README's failure table names every HandleCommandFailure reason", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const errors = readFileSync(join(root, "src", "errors.ts"), "utf8");
  const type = errors.slice(errors.indexOf("export type HandleCommandFailure ="));
  const reasons = [...type.slice(0, type.indexOf('";') + 2).matchAll(/\| "([a-z-]+)"/g)].map((m) =>
    m[1]
  );
  assert.ok(reasons.length >= 10, `found only ${reasons.length} reasons`);
  const section = readme.slice(readme.indexOf("### What each failure reason means"));
  const table = section.slice(0, section.indexOf("\n\n", section.indexOf("| reason")));
  for (const reason of reasons) assert.match(table, new RegExp(`\\| \`${reason}\` +\\|`), reason);
});

test("the README links the rules doc, which exists", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  assert.match(readme, /\]\(docs\/event-log-rules\.md\)/);
  const rules = readFileSync(join(root, "docs", "event-log-rules.md"), "utf8");
  assert.match(rules, /^# The rules every EventLog and SnapshotStore keeps/);
});
