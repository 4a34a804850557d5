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
