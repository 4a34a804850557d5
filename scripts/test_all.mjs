// Runs the one test suite on every runtime: Deno (tests and JSDoc examples), Bun, and Node 20
// and Node 24 against the built npm package. Prints each runtime's counts and ends with one
// line "N passed, N failed" summed over all of them. A runtime that is missing or that ends
// without a count is a failure, never a skip.
//
//   node scripts/test_all.mjs [--only deno,bun,node20,node24] [pattern…]
//
// Patterns narrow the test files (substring of the file name), e.g. `memory entity`.
//
// A run of the whole suite (no patterns: `npm test`, `deno task test`, .ci/run) first runs
// scripts/ensure_system.mjs, which installs the PostgreSQL server, nats-server and Chromium
// when they are missing and it can (root, or sudo -n), and otherwise ends the run at once with
// the packages to install. A narrowed run installs nothing: its tests name what they miss.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LIBRARY_FOLDERS } from "./package_contents.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const args = process.argv.slice(2);
const onlyIndex = args.indexOf("--only");
const only = onlyIndex >= 0 ? args.splice(onlyIndex, 2)[1].split(",") : undefined;
const patterns = args;
const RUNTIME_TIMEOUT_MS = 30 * 60_000;

const testFiles = readdirSync(join(root, "tests"))
  .filter((f) => f.endsWith("_test.ts"))
  .filter((f) => patterns.length === 0 || patterns.some((p) => f.includes(p)))
  .sort();
const docSources = ["mod.ts", ...LIBRARY_FOLDERS, "README.md"]
  .filter((p) => existsSync(join(root, p)));
const nodeFiles = testFiles.map((f) => join("dist", "npm", "tests", f.replace(/\.ts$/, ".js")));
const nodeArgs = ["--test", "--test-reporter=spec", "--test-concurrency=1", ...nodeFiles];

// The machine's Node 20 (first on PATH outside node_modules, or this process) and Node 24
// from npm.
const node20 = findNode20();

function findNode20() {
  if (process.versions.node.startsWith("20.")) return process.execPath;
  const dirs = (process.env.PATH ?? "").split(delimiter).filter((d) => !d.includes("node_modules"));
  for (const dir of [...dirs, "/usr/bin", "/usr/local/bin"]) {
    const candidate = join(dir, "node");
    if (!existsSync(candidate)) continue;
    const version = spawnSync(candidate, ["--version"], { encoding: "utf8" }).stdout ?? "";
    if (version.startsWith("v20.")) return candidate;
  }
  return "node-20-not-found";
}

const runtimes = [
  {
    name: "deno",
    command: bin("deno"),
    args: [
      "test",
      "-A",
      "--doc",
      "--parallel",
      ...testFiles.map((f) => join("tests", f)),
      ...(patterns.length === 0 ? docSources : []),
    ],
    env: { DENO_JOBS: "2" },
    parse: (out) => {
      const m = [
        ...out.matchAll(/(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/g),
      ].pop();
      return m && { passed: +m[1], failed: +m[2] };
    },
  },
  {
    name: "bun",
    command: bin("bun"),
    args: ["test", "--timeout", "60000", ...testFiles.map((f) => "./" + join("tests", f))],
    parse: (out) => {
      const pass = [...out.matchAll(/^\s*(\d+) pass$/gm)].pop();
      const fail = [...out.matchAll(/^\s*(\d+) fail$/gm)].pop();
      return pass && fail && { passed: +pass[1], failed: +fail[1] };
    },
  },
  {
    name: "node20",
    command: node20,
    args: ["--experimental-websocket", ...nodeArgs],
    parse: parseNode,
  },
  {
    name: "node24",
    command: bin("node"),
    args: nodeArgs,
    parse: parseNode,
  },
].filter((r) => only === undefined || only.includes(r.name));

function parseNode(out) {
  const pass = [...out.matchAll(/^ℹ pass (\d+)$/gm)].pop();
  const fail = [...out.matchAll(/^ℹ fail (\d+)$/gm)].pop();
  const cancelled = [...out.matchAll(/^ℹ cancelled (\d+)$/gm)].pop();
  return pass && fail && { passed: +pass[1], failed: +fail[1] + (cancelled ? +cancelled[1] : 0) };
}

function run(command, commandArgs, env = {}) {
  return new Promise((resolve) => {
    let output = "";
    const child = spawn(command, commandArgs, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const timer = setTimeout(() => {
      output += `\n(test_all: killed after ${RUNTIME_TIMEOUT_MS / 60_000} minutes)\n`;
      child.kill("SIGKILL");
    }, RUNTIME_TIMEOUT_MS);
    const collect = (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", (error) => {
      output += `\n(test_all: cannot start ${command}: ${error.message})\n`;
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

if (patterns.length === 0) {
  const system = await run(process.execPath, [join(root, "scripts", "ensure_system.mjs")]);
  if (system.code !== 0) {
    console.log("\n=== summary\nsystem  0 passed, 1 failed (programs the tests need are missing)");
    console.log("0 passed, 1 failed");
    process.exit(1);
  }
}

const build = await run(process.execPath, [join(root, "scripts", "build_npm.mjs"), "--quiet"]);
const results = [];
for (const runtime of runtimes) {
  if (runtime.name.startsWith("node") && build.code !== 0) {
    results.push({ name: runtime.name, passed: 0, failed: 1, note: "npm build failed" });
    continue;
  }
  if (!existsSync(runtime.command)) {
    results.push({ name: runtime.name, passed: 0, failed: 1, note: `missing ${runtime.command}` });
    continue;
  }
  console.log(`\n=== ${runtime.name}: ${runtime.command} ${runtime.args.join(" ")}\n`);
  const { code, output } = await run(runtime.command, runtime.args, runtime.env);
  const counts = runtime.parse(output);
  if (!counts) {
    results.push({
      name: runtime.name,
      passed: 0,
      failed: 1,
      note: `no test counts (exit ${code})`,
    });
  } else if (code !== 0 && counts.failed === 0) {
    results.push({
      ...counts,
      name: runtime.name,
      failed: 1,
      note: `exit ${code} without a failed test`,
    });
  } else {
    results.push({ ...counts, name: runtime.name });
  }
}

console.log("\n=== summary");
for (const r of results) {
  console.log(
    `${r.name.padEnd(7)} ${r.passed} passed, ${r.failed} failed${r.note ? ` (${r.note})` : ""}`,
  );
}
const passed = results.reduce((sum, r) => sum + r.passed, 0);
const failed = results.reduce((sum, r) => sum + r.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && results.length > 0 ? 0 : 1);
