// The command-line tool's help and usage errors: exit code 2, a message naming what was wrong
// and how to get help, and nothing opened (a missing PGlite directory stays missing).

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../cli/mod.ts";
import { cli } from "./_cli_run.ts";

const COMMANDS = [
  "setup",
  "schema",
  "types",
  "ids",
  "events",
  "snapshot",
  "tail",
  "projections",
  "reset-projection",
  "delete-events",
  "delete-entity",
  "verify",
  "copy",
];

test("--help lists every command, the URL forms and the exit codes", async () => {
  const { code, stdout, stderr } = await cli(["--help"]);
  assert.equal(code, 0);
  assert.equal(stderr, "");
  for (const name of COMMANDS) assert.match(stdout, new RegExp(`^  ${name} `, "m"), name);
  assert.match(stdout, /pglite:\.\/data/);
  assert.match(stdout, /postgres:\/\//);
  assert.match(stdout, /nats:\/\//);
  assert.match(stdout, /ws:\/\//);
  assert.match(stdout, /Exit codes: 0 ok, 1 failure, 2 usage error/);
});

test("no command prints the help on stderr and exits 2", async () => {
  const { code, stdout, stderr } = await cli([]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.match(stderr, /Commands:/);
});

test("every command has its own --help with its usage line", async () => {
  for (const name of COMMANDS) {
    const { code, stdout } = await cli([name, "--help"]);
    assert.equal(code, 0, name);
    assert.match(stdout, new RegExp(`^Usage: eventsourced ${name} `, "m"), name);
    const viaHelp = await cli(["help", name]);
    assert.equal(viaHelp.stdout, stdout, name);
  }
  assert.match((await cli(["events", "--help"])).stdout, /--codec MODULE/);
  assert.match((await cli(["reset-projection", "--help"])).stdout, /NAME \[--to N\] --yes/);
});

test("an unknown command is a usage error that points to --help", async () => {
  const { code, stdout, stderr } = await cli(["typess", "pglite:./x"]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.match(
    stderr,
    /^Unknown command "typess" \(did you mean "types"\?\): see eventsourced --help/,
  );
});

test("an unknown option, a missing or extra argument, or a bad number is a usage error", async () => {
  const cases: [string[], RegExp][] = [
    [["types", "pglite:./x", "--colour"], /Unknown option "--colour" for types: see --help/],
    [["types", "pglite:./x", "-v"], /Unknown option "-v" for types/],
    [["ids", "pglite:./x"], /Missing TYPE: usage: eventsourced ids URL TYPE/],
    [["events", "pglite:./x", "t"], /Missing ID: usage: eventsourced events URL TYPE ID/],
    [["types", "pglite:./x", "extra"], /Unexpected argument "extra"/],
    [["ids", "pglite:./x", ""], /Invalid TYPE "": it must not be empty/],
    [
      ["events", "pglite:./x", "t", "a", "--from", "0"],
      /Invalid --from "0": expected a whole number of at least 1/,
    ],
    [["events", "pglite:./x", "t", "a", "--from", "1.5"], /Invalid --from "1.5"/],
    [["events", "pglite:./x", "t", "a", "--from=-3"], /Invalid --from "-3"/],
    [["tail", "pglite:./x", "t", "--from"], /Option "--from" needs a value/],
    [["types", "pglite:./x", "--timeout", "soon"], /Invalid --timeout "soon"/],
    [["types", "pglite:./x", "--json=yes"], /Option "--json" takes no value/],
    [["ids", "pglite:./x", "t", "--limit", "0"], /Invalid --limit "0"/],
    [["reset-projection", "pglite:./x", "p"], /Refusing to reset projection "p" without --yes/],
    [["reset-projection", "pglite:./x", "p", "--to", "x", "--yes"], /Invalid --to "x"/],
    [["copy", "pglite:./x", "pglite:./y", "--force"], /Refusing --force without --yes/],
  ];
  for (const [args, message] of cases) {
    const { code, stdout, stderr } = await cli(args);
    assert.equal(code, 2, args.join(" "));
    assert.equal(stdout, "", args.join(" "));
    assert.match(stderr, message, args.join(" "));
  }
});

test("a bad EVENTSOURCED_TIMEOUT is a usage error", async () => {
  const bad = await cli(["types", "pglite:./x"], { env: { EVENTSOURCED_TIMEOUT: "-1" } });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Invalid EVENTSOURCED_TIMEOUT "-1"/);
});

test("a URL of an unknown scheme names it and the schemes the tool knows, hiding the password", async () => {
  const { code, stderr } = await cli(["types", "mysql://admin:s3cret@db:3306/shop"]);
  assert.equal(code, 2);
  assert.match(
    stderr,
    /Invalid store URL "mysql:\/\/admin:\*\*\*@db:3306\/shop": unknown scheme "mysql:"/,
  );
  assert.match(
    stderr,
    /postgres:\/\/, postgresql:\/\/, pglite:PATH, file:PATH, nats:\/\/, ws:\/\/, wss:\/\//,
  );
  assert.doesNotMatch(stderr, /s3cret/);
  const none = await cli(["types", "just-a-name"]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Invalid store URL "just-a-name": no scheme/);
  const noHost = await cli(["types", "postgres:///shop"]);
  assert.equal(noHost.code, 2);
  assert.match(noHost.stderr, /the host is missing/);
});

test("a read command refuses a missing PGlite directory and does not create it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "eventsourced-cli-"));
  try {
    const missing = join(dir, "nothing-here");
    for (const command of [["types"], ["schema"], ["ids", "t"], ["events", "t", "a"]]) {
      const [name, ...rest] = command;
      const { code, stdout, stderr } = await cli([name!, `pglite:${missing}`, ...rest]);
      assert.equal(code, 1, name);
      assert.equal(stdout, "", name);
      assert.match(
        stderr,
        /No PGlite data directory at ".*nothing-here": run `eventsourced setup pglite:/,
      );
      assert.equal(existsSync(missing), false, `${name} created the directory`);
    }
    const file = join(dir, "a-file");
    writeFileSync(file, "not a directory");
    const { code, stderr } = await cli(["types", `file://${file}`]);
    assert.equal(code, 2);
    assert.match(stderr, /Invalid PGlite data directory ".*a-file": it is a file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a --codec module that cannot be loaded or is no codec is refused before anything opens", async () => {
  const dir = mkdtempSync(join(tmpdir(), "eventsourced-cli-"));
  try {
    const notCodec = join(dir, "not_codec.mjs");
    writeFileSync(notCodec, "export default { hello: 1 };\n");
    const missing = join(dir, "missing");
    const bad = await cli(["events", `pglite:${missing}`, "t", "a", "--codec", notCodec]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /Invalid --codec ".*not_codec\.mjs": its default export is neither a Binarize/,
    );
    const absent = await cli(["verify", `pglite:${missing}`, "--codec", join(dir, "nope.mjs")]);
    assert.equal(absent.code, 2);
    assert.match(absent.stderr, /Cannot load --codec ".*nope\.mjs"/);
    assert.equal(existsSync(missing), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("openStore rejects what it cannot read with a TypeError", async () => {
  await assert.rejects(openStore("redis://localhost"), TypeError);
  await assert.rejects(openStore("pglite:"), /the path is empty/);
  await assert.rejects(openStore("pglite:./x", { timeout: 0 }), RangeError);
});
