// Makes sure the programs the test suite starts are on this machine: the PostgreSQL server
// (initdb, postgres), nats-server, Chromium and NSS's certutil. Missing ones are installed with
// apt-get as the Debian packages postgresql, nats-server, chromium and libnss3-tools, when this
// process is root or sudo works without a password; otherwise it fails, naming the exact
// packages and the command to run. It looks where the tests look (tests/_servers/,
// tests/browser_test.ts, tests/security_edge_tls_test.ts), including the overrides PG_BIN (or
// PG_URL: an external server), NATS_SERVER, CHROMIUM and CERTUTIL.
//
//   node scripts/ensure_system.mjs [--dry-run] [--root DIR]
//
// --dry-run  prints what is missing and the command that would install it; installs nothing.
// --root DIR looks for the programs under DIR instead of / (PATH and the overrides are used as
//            given), so the detection can be tried on a made-up file tree.
//
// Plain Node (no dependencies): .ci/run calls it before `npm ci`, test_all.mjs before the suite.

import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";
import process from "node:process";

const args = process.argv.slice(2);
const dryRun = args.includes("--dry-run");
const rootIndex = args.indexOf("--root");
const root = rootIndex >= 0 ? args[rootIndex + 1] : "/";
const env = process.env;

if (rootIndex >= 0 && !root) fail("--root needs a directory");
for (const [i, arg] of args.entries()) {
  if (arg !== "--dry-run" && arg !== "--root" && args[i - 1] !== "--root") {
    fail(`unknown argument ${JSON.stringify(arg)} (known: --dry-run, --root DIR)`);
  }
}

/** A path under the root being examined. */
function under(...parts) {
  return join(root, ...parts);
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` on PATH, or undefined. */
function onPath(name) {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

// The same places tests/_servers/postgres.ts searches, newest version first.
function findPostgres() {
  if (env.PG_URL) return `PG_URL (${env.PG_URL.replace(/\/\/[^@/]*@/, "//…@")})`;
  if (env.PG_BIN && existsSync(join(env.PG_BIN, "initdb"))) return env.PG_BIN;
  const dirs = [];
  const versions = under("usr", "lib", "postgresql");
  if (existsSync(versions)) {
    const found = readdirSync(versions).filter((v) => /^\d+$/.test(v));
    found.sort((a, b) => Number(b) - Number(a));
    dirs.push(...found.map((v) => join(versions, v, "bin")));
  }
  dirs.push(
    under("usr", "local", "pgsql", "bin"),
    under("usr", "local", "bin"),
    under("usr", "bin"),
  );
  return dirs.find((dir) =>
    isExecutable(join(dir, "initdb")) && isExecutable(join(dir, "postgres"))
  );
}

// The same places tests/_servers/nats.ts searches, then PATH.
function findNatsServer() {
  if (env.NATS_SERVER) return isExecutable(env.NATS_SERVER) ? env.NATS_SERVER : undefined;
  const paths = ["sbin", "bin", join("local", "bin")].map((dir) =>
    under("usr", dir, "nats-server")
  );
  return paths.find(isExecutable) ?? onPath("nats-server");
}

// tests/browser_test.ts launches CHROMIUM or /usr/bin/chromium.
function findChromium() {
  const path = env.CHROMIUM ?? under("usr", "bin", "chromium");
  return isExecutable(path) ? path : undefined;
}

// tests/security_edge_tls_test.ts runs CERTUTIL or /usr/bin/certutil to make Chromium trust a CA.
function findCertutil() {
  const path = env.CERTUTIL ?? under("usr", "bin", "certutil");
  return isExecutable(path) ? path : undefined;
}

const REQUIREMENTS = [
  { what: "the PostgreSQL server (initdb, postgres)", pkg: "postgresql", find: findPostgres },
  { what: "nats-server", pkg: "nats-server", find: findNatsServer },
  { what: "Chromium (/usr/bin/chromium)", pkg: "chromium", find: findChromium },
  { what: "NSS's certutil (/usr/bin/certutil)", pkg: "libnss3-tools", find: findCertutil },
];

function missingRequirements() {
  return REQUIREMENTS.filter((requirement) => requirement.find() === undefined);
}

/** How packages can be installed here: as root, through `sudo -n`, or not at all (why). */
function installer() {
  const aptGet = onPath("apt-get");
  if (aptGet === undefined) return { prefix: undefined, why: "this machine has no apt-get" };
  if (typeof process.getuid === "function" && process.getuid() === 0) {
    return { prefix: [], why: "running as root" };
  }
  const sudo = onPath("sudo");
  if (sudo !== undefined && spawnSync(sudo, ["-n", "true"], { stdio: "ignore" }).status === 0) {
    return { prefix: [sudo, "-n"], why: "sudo works without a password" };
  }
  return { prefix: undefined, why: "not root, and sudo -n is not available" };
}

function installCommand(packages) {
  return `apt-get update && apt-get install -y --no-install-recommends ${packages.join(" ")}`;
}

function fail(message) {
  console.error(`ensure_system: ${message}`);
  process.exit(1);
}

function describe(missing) {
  return missing.map(({ what, pkg }) => `  - ${what}: Debian package ${pkg}`).join("\n");
}

function run(prefix, command, commandArgs) {
  const [program, ...rest] = [...prefix, command, ...commandArgs];
  const result = spawnSync(program, rest, {
    stdio: "inherit",
    env: { ...env, DEBIAN_FRONTEND: "noninteractive" },
  });
  return result.status === 0;
}

const missing = missingRequirements();
if (missing.length === 0) {
  console.log(
    "ensure_system: PostgreSQL, nats-server, Chromium and certutil are present; nothing to install",
  );
  process.exit(0);
}
const packages = missing.map(({ pkg }) => pkg);
const how = installer();
if (dryRun) {
  console.log(`ensure_system: missing for the tests:\n${describe(missing)}`);
  console.log(`would install: ${packages.join(" ")}`);
  console.log(
    how.prefix === undefined
      ? `cannot install (${how.why}); would fail asking for: ${installCommand(packages)}`
      : `would run (${how.why}): ${[...how.prefix, installCommand(packages)].join(" ")}`,
  );
  process.exit(0);
}
const advice = `Install them as root with:\n  ${installCommand(packages)}\n` +
  "(or point PG_BIN, NATS_SERVER, CHROMIUM or CERTUTIL at existing programs, " +
  "or PG_URL at a server)";
if (how.prefix === undefined) {
  fail(
    `the tests need programs that are missing, and ${how.why}:\n${describe(missing)}\n${advice}`,
  );
}
console.log(`ensure_system: installing ${packages.join(" ")} (${how.why})`);
const installed = run(how.prefix, "apt-get", ["update", "-qq"]) &&
  run(how.prefix, "apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages]);
const still = missingRequirements();
if (!installed || still.length > 0) {
  fail(
    `${installed ? "installed, but still missing" : "apt-get failed; missing"}:\n${
      describe(still.length > 0 ? still : missing)
    }\n${advice}`,
  );
}
console.log(`ensure_system: installed ${packages.join(" ")}`);
