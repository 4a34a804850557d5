// The tool's real entry (cli/main) as a child process: arguments from the process, output on
// its stdout and stderr, the exit code of the command.

import { test } from "node:test";
import assert from "node:assert/strict";
import { runCliChild } from "./_cli_child.ts";

test("the entry prints the help and exits 0", async () => {
  const { code, stdout, stderr } = await runCliChild(["--help"]);
  assert.equal(stderr, "");
  assert.equal(code, 0);
  assert.match(stdout, /^eventsourced: look inside an event store/);
  assert.match(stdout, /^ {2}tail /m);
});

test("the entry exits 2 with the message on stderr for a usage error", async () => {
  const { code, stdout, stderr } = await runCliChild(["types", "mysql://root:hunter2@db/shop"]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.match(stderr, /^Invalid store URL "mysql:\/\/root:\*\*\*@db\/shop": unknown scheme/);
  assert.doesNotMatch(stderr, /hunter2/);
});
