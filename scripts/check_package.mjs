// Trusts the npm artifact only after using it as a user would: packs dist/npm, installs the
// tarball into a fresh project, and runs a quick start there on the machine's Node. Also
// checks that deno.json, jsr.json and the npm package.json list the same exports, and that
// the npm tarball and the JSR package hold only library files (scripts/package_contents.mjs):
// no tests, keys, certificates or dev files.
//
//   node scripts/build_npm.mjs && node scripts/check_package.mjs

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import assert from "node:assert/strict";
import { assertPackageContents, refusal } from "./package_contents.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const read = (path) => JSON.parse(readFileSync(join(root, path), "utf8"));
const deno = read("deno.json");
const jsr = read("jsr.json");
const npm = read("dist/npm/package.json");

assert.deepEqual(jsr.exports, deno.exports, "jsr.json and deno.json export the same subpaths");
assert.equal(jsr.name, deno.name);
assert.equal(jsr.version, deno.version);
assert.deepEqual(
  Object.keys(npm.exports).sort(),
  Object.keys(deno.exports).sort(),
  "the npm package exports the same subpaths as deno.json",
);
for (const [subpath, source] of Object.entries(deno.exports)) {
  assert.equal(npm.exports[subpath].import, source.replace(/\.ts$/, ".js"), subpath);
}

// The rule itself refuses what must never ship, so a pass below means something.
for (const path of ["tests/a_test.js", "src/a_test.js", "tests/_servers/ca.pem", "x.key", ".env"]) {
  assert.ok(refusal("npm", path) !== undefined, `the package rule refuses ${path}`);
}
assert.ok(refusal("jsr", "scripts/build_npm.mjs") !== undefined, "the rule refuses scripts/");

// The JSR package as `deno publish` would upload it (type checks are CI's own step).
const denoBin = join(
  root,
  "node_modules",
  ".bin",
  process.platform === "win32" ? "deno.cmd" : "deno",
);
const dryRun = spawnSync(
  existsSync(denoBin) ? denoBin : "deno",
  ["publish", "--dry-run", "--allow-dirty", "--no-check", "--allow-slow-types"],
  { cwd: root, encoding: "utf8" },
);
assert.equal(dryRun.status, 0, `deno publish --dry-run failed:\n${dryRun.stderr}`);
const prefix = `${pathToFileURL(root).href}/`;
const jsrFiles = [...`${dryRun.stdout}${dryRun.stderr}`.matchAll(/(file:\/\/\S+) \(/g)]
  .map(([, url]) => decodeURIComponent(url.slice(prefix.length)));
assert.ok(jsrFiles.length > 0, "deno publish --dry-run listed the package's files");
assertPackageContents("jsr", jsrFiles, Object.values(deno.exports).map((p) => p.slice(2)));
console.log(`check_package: the JSR package holds ${jsrFiles.length} library files, nothing else`);

const work = mkdtempSync(join(tmpdir(), "eventsourced-package-"));
try {
  const npmBin = process.platform === "win32" ? "npm.cmd" : "npm";
  const [pack] = JSON.parse(execFileSync(npmBin, ["pack", join(root, "dist", "npm"), "--json"], {
    cwd: work,
    encoding: "utf8",
  }));
  const packed = pack.filename;
  const npmFiles = pack.files.map((file) => file.path);
  assertPackageContents(
    "npm",
    npmFiles,
    Object.values(npm.exports).flatMap((entry) => [entry.import.slice(2), entry.types.slice(2)]),
  );
  console.log(
    `check_package: the npm tarball holds ${npmFiles.length} library files, nothing else`,
  );
  writeFileSync(
    join(work, "package.json"),
    JSON.stringify({ name: "smoke", private: true, type: "module" }),
  );
  execFileSync(npmBin, ["install", "--no-audit", "--no-fund", "--offline", join(work, packed)], {
    cwd: work,
    stdio: "inherit",
  });
  writeFileSync(
    join(work, "smoke.mjs"),
    `import { emitAndReply, jsonBinarize, MemoryEventLog, spawn } from "@eventsourced/eventsourced";
import { given } from "@eventsourced/eventsourced/testing";
import assert from "node:assert/strict";
const counter = { typeName: "counter", initialState: 0, handleEvent: (s, by) => s + by };
const add = (by) => ({ handleCommand: () => emitAndReply(by, (s) => s) });
const ref = await spawn(counter, "a", { eventLog: new MemoryEventLog(), binarize: jsonBinarize() });
assert.deepEqual(await ref.handleCommand(add(2)), { ok: true, value: 2 });
await ref.stop();
given(counter, [1]).when(add(2)).then({ events: [2], reply: 3 });
console.log("check_package: the installed tarball works");
`,
  );
  const node = ["/usr/bin/node", process.execPath].find((p) => {
    try {
      return execFileSync(p, ["--version"], { encoding: "utf8" }).startsWith("v20.");
    } catch {
      return false;
    }
  }) ?? process.execPath;
  execFileSync(node, ["smoke.mjs"], { cwd: work, stdio: "inherit" });
  // The command-line tool as an npm user runs it: the package's bin, through npx.
  const npx = process.platform === "win32" ? "npx.cmd" : "npx";
  const help = execFileSync(npx, ["--offline", "eventsourced", "--help"], {
    cwd: work,
    encoding: "utf8",
    env: { ...process.env, PATH: `${dirname(node)}:${process.env.PATH}` },
  });
  assert.match(help, /Commands:[\s\S]*tail/, "npx eventsourced --help lists the commands");
  // Without the optional driver a backend's URL says which package to install.
  const noDriver = spawnSync(npx, [
    "--offline",
    "eventsourced",
    "types",
    "postgres://127.0.0.1:1/x",
  ], {
    cwd: work,
    encoding: "utf8",
    env: { ...process.env, PATH: `${dirname(node)}:${process.env.PATH}` },
  });
  assert.equal(noDriver.status, 1, noDriver.stderr);
  assert.match(
    noDriver.stderr,
    /Cannot open a PostgreSQL store: its driver did not load \(install postgres\)/,
  );
  console.log("check_package: npx eventsourced --help works");
  const rules = join(
    work,
    "node_modules",
    "@eventsourced",
    "eventsourced",
    "docs",
    "event-log-rules.md",
  );
  assert.ok(existsSync(rules), "the package ships docs/event-log-rules.md, which the README links");
  console.log(
    `check_package: ${packed} (${npm.name}@${npm.version}) installs and runs on ${
      execFileSync(node, ["--version"], { encoding: "utf8" }).trim()
    }`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
