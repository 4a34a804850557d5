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

// The first TypeScript block after `heading`.
function firstBlock(readme: string, heading: string): string {
  const at = readme.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `no "${heading}" in the README`);
  const section = readme.slice(at);
  const start = section.indexOf("```ts\n") + 6;
  return section.slice(start, section.indexOf("```\n", start));
}

// The README's other examples are files of examples/readme, which check what they show with
// node:assert; the README has each with the package import.
const examples = [
  ["## Metadata", "metadata"],
  ["## Idempotent retries", "idempotent_retries"],
  ["## Schema evolution", "schema_evolution"],
  ["### Deleting events", "deleting_events"],
] as const;

for (const [heading, name] of examples) {
  test(`the README's example under "${heading}" is examples/readme/${name}.ts`, () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const example = readFileSync(join(root, "examples", "readme", `${name}.ts`), "utf8");
    assert.equal(
      firstBlock(readme, heading),
      example.replaceAll('"../../mod.ts"', '"@eventsourced/eventsourced"'),
    );
  });
}

// The walk-through of "Running a fleet" shows the files of examples/fleet as they are. The
// blocks of processes that need a nats-server are marked `ts ignore`, so the README's doc test
// does not run them (tests/fleet_example_test.ts does).
const fleetFiles = [
  ["### Commands as data", "counter"],
  ["### A host", "counter_host"],
  ["### A client", "client"],
] as const;

function firstBlockOrIgnored(readme: string, heading: string): string {
  const at = readme.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `no "${heading}" in the README`);
  const match = /```ts( ignore)?\n/.exec(readme.slice(at))!;
  const from = at + match.index + match[0].length;
  return readme.slice(from, readme.indexOf("```\n", from));
}

for (const [heading, name] of fleetFiles) {
  test(`the README's example under "${heading}" is examples/fleet/${name}.ts`, () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const example = readFileSync(join(root, "examples", "fleet", `${name}.ts`), "utf8");
    assert.equal(
      firstBlockOrIgnored(readme, heading),
      example.replaceAll('"../../mod.ts"', '"@eventsourced/eventsourced"')
        .replaceAll('"../../adapters/nats/mod.ts"', '"@eventsourced/eventsourced/nats"'),
    );
  });
}

test("the README's metadata example runs", async () => {
  await import("../examples/readme/metadata.ts");
});

test("the README's idempotent-retry example runs", async () => {
  await import("../examples/readme/idempotent_retries.ts");
});

test("the README's schema-evolution example runs", async () => {
  await import("../examples/readme/schema_evolution.ts");
});

test("the README's deleting-events example runs", async () => {
  await import("../examples/readme/deleting_events.ts");
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
