// Crypto-shredding needs nothing but Web Crypto: the shredding layer with the memory stores,
// bundled by esbuild for browsers (platform browser, where a Node built-in fails the build), then
// run from the bundle.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { binPath, repoPath } from "./_edge_util.ts";

test("the shredding layer bundles for browsers and runs from the bundle", async () => {
  const dir = mkdtempSync(join(tmpdir(), "eventsourced-shredding-edge-"));
  try {
    const outfile = join(dir, "shredding.mjs");
    const entry = repoPath("tests", "_shredding_edge_entry.ts");
    const args = [entry, "--bundle", "--format=esm", "--platform=browser", `--outfile=${outfile}`];
    await new Promise<void>((resolve, reject) => {
      execFile(binPath("esbuild"), args, { timeout: 60_000 }, (error, _out, stderr) => {
        if (error) reject(new Error(`esbuild failed: ${stderr || error.message}`));
        else resolve();
      });
    });
    const bundle = await import(pathToFileURL(outfile).href) as {
      run(): Promise<{ stored: string[]; read: string[] }>;
    };
    const { stored, read } = await bundle.run();
    assert.equal(stored.length, 2);
    assert.ok(stored.every((bytes) => !bytes.includes("secret")), "no note stored in clear");
    assert.deepEqual(read, ["p1:forgotten", "p2:p2-secret"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
