// scripts/ensure_system.mjs, which `npm test` runs first: it finds the PostgreSQL server,
// nats-server, Chromium and certutil where the tests look for them, and installs the missing
// Debian packages with apt-get or fails naming them. Each case runs the real script over a
// made-up file tree (`--root`) with a PATH of its own, so nothing on this machine is looked at or
// installed; the apt-get and sudo on that PATH are shell scripts that record their arguments.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { binPath, repoPath } from "./_edge_util.ts";

const SCRIPT = repoPath("scripts", "ensure_system.mjs");
const OVERRIDES = ["PG_BIN", "PG_URL", "NATS_SERVER", "CHROMIUM", "CERTUTIL"];

/** A temporary file tree; `program` writes an executable shell script into it. */
function tree() {
  const root = mkdtempSync(join(tmpdir(), "eventsourced-ensure-"));
  const program = (path: string, body = "exit 0") => {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
    return file;
  };
  return { root, program, [Symbol.dispose]: () => rmSync(root, { recursive: true, force: true }) };
}

/** Runs the script with `args`, PATH set to `path` and no overrides unless given. */
function ensure(args: string[], path: string, extra: Record<string, string> = {}) {
  const env: Record<string, string> = { ...process.env as Record<string, string> };
  for (const key of OVERRIDES) delete env[key];
  const result = spawnSync(binPath("node"), [SCRIPT, ...args], {
    env: { ...env, PATH: path, ...extra },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

const ALL = "postgresql nats-server chromium libnss3-tools";
const COMMAND = `apt-get update && apt-get install -y --no-install-recommends ${ALL}`;

test("with nothing installed and no apt-get, a dry run lists every package and the command", () => {
  using files = tree();
  const bin = join(files.root, "empty-bin");
  mkdirSync(bin);
  const { status, out } = ensure(["--dry-run", "--root", files.root], bin);
  assert.equal(status, 0, out);
  assert.match(out, /PostgreSQL server \(initdb, postgres\): Debian package postgresql/);
  assert.match(out, /nats-server: Debian package nats-server/);
  assert.match(out, /Chromium \(\/usr\/bin\/chromium\): Debian package chromium/);
  assert.match(out, /certutil \(\/usr\/bin\/certutil\): Debian package libnss3-tools/);
  assert.match(out, new RegExp(`would install: ${ALL}`));
  assert.ok(out.includes(`cannot install (this machine has no apt-get)`), out);
  assert.ok(out.includes(COMMAND), out);
});

test("without a way to install, the script fails naming the packages and the command", () => {
  using files = tree();
  const bin = join(files.root, "empty-bin");
  mkdirSync(bin);
  const { status, out } = ensure(["--root", files.root], bin);
  assert.equal(status, 1, out);
  assert.match(out, /the tests need programs that are missing, and this machine has no apt-get/);
  assert.ok(out.includes(COMMAND), out);
});

test("programs where the tests look for them count as present; half a server does not", () => {
  using files = tree();
  const bin = join(files.root, "empty-bin");
  mkdirSync(bin);
  files.program("usr/lib/postgresql/16/bin/initdb");
  files.program("usr/sbin/nats-server");
  files.program("usr/bin/chromium");
  files.program("usr/bin/certutil");
  const half = ensure(["--dry-run", "--root", files.root], bin);
  assert.match(half.out, /would install: postgresql\n/, "initdb without postgres is not a server");
  files.program("usr/lib/postgresql/16/bin/postgres");
  const whole = ensure(["--root", files.root], bin);
  assert.equal(whole.status, 0, whole.out);
  assert.match(whole.out, /nothing to install/);
});

test("PATH and the overrides PG_BIN, NATS_SERVER, CHROMIUM and CERTUTIL are honoured", () => {
  using files = tree();
  const natsOnPath = files.program("path-bin/nats-server");
  const pgBin = dirname(files.program("pg/initdb"));
  const chromium = files.program("browsers/chrome");
  const certutil = files.program("nss/certutil");
  const path = dirname(natsOnPath);
  const { status, out } = ensure(["--root", files.root], path, {
    PG_BIN: pgBin,
    CHROMIUM: chromium,
    CERTUTIL: certutil,
  });
  assert.equal(status, 0, out);
  const external = ensure(["--dry-run", "--root", files.root], path, {
    PG_URL: "postgres://user:secret@db.example/app",
    NATS_SERVER: join(files.root, "no", "nats-server"),
  });
  assert.match(external.out, /would install: nats-server chromium libnss3-tools\n/);
  assert.ok(!external.out.includes("secret"), "the URL's password is not printed");
});

test("when it can, it installs the missing packages with apt-get and checks again", () => {
  using files = tree();
  const log = join(files.root, "apt.log");
  // The stand-in apt-get records its arguments and, on install, puts the programs in place.
  const aptGet = files.program(
    "path-bin/apt-get",
    [
      `echo "$@" >> ${log}`,
      `case "$1" in install)`,
      `  for p in initdb postgres; do mkdir -p ${files.root}/usr/lib/postgresql/17/bin;`,
      `    printf '#!/bin/sh\\n' > ${files.root}/usr/lib/postgresql/17/bin/$p;`,
      `    chmod 755 ${files.root}/usr/lib/postgresql/17/bin/$p; done;;`,
      `esac`,
    ].join("\n"),
  );
  // When the test does not run as root, the script goes through sudo -n.
  files.program("path-bin/sudo", `[ "$1" = "-n" ] && shift; exec "$@"`);
  files.program("usr/sbin/nats-server");
  files.program("usr/bin/chromium");
  files.program("usr/bin/certutil");
  const { status, out } = ensure(["--root", files.root], `${dirname(aptGet)}:/usr/bin:/bin`);
  assert.equal(status, 0, out);
  assert.match(out, /installed postgresql/);
  assert.deepEqual(readFileSync(log, "utf8").trim().split("\n"), [
    "update -qq",
    "install -y -qq --no-install-recommends postgresql",
  ]);
});

test("a package that installs but leaves its program missing is a failure", () => {
  using files = tree();
  const aptGet = files.program("path-bin/apt-get");
  files.program("path-bin/sudo", `[ "$1" = "-n" ] && shift; exec "$@"`);
  files.program("usr/lib/postgresql/16/bin/initdb");
  files.program("usr/lib/postgresql/16/bin/postgres");
  files.program("usr/sbin/nats-server");
  files.program("usr/bin/certutil");
  const { status, out } = ensure(["--root", files.root], `${dirname(aptGet)}:/usr/bin:/bin`);
  assert.equal(status, 1, out);
  assert.match(out, /installed, but still missing:\n {2}- Chromium/);
});
