// Builds the npm package into dist/npm: tsc compiles the Deno-style sources (with .ts import
// extensions rewritten to .js) and writes declarations; tests and examples are compiled beside
// them so Node runs the suite against exactly what an npm user installs, but only the library
// files are listed in the package's "files".
//
//   node scripts/build_npm.mjs [--quiet]

import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist", "npm");
const quiet = process.argv.includes("--quiet");
const log = (message) => quiet || console.log(message);

rmSync(out, { recursive: true, force: true });
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
const compiled = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], {
  stdio: "inherit",
});
if (compiled.status !== 0) {
  console.error("build_npm: tsc failed");
  process.exit(compiled.status ?? 1);
}

const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
const exports = {};
for (const [subpath, source] of Object.entries(deno.exports)) {
  const path = join(root, source);
  if (!existsSync(path)) continue;
  const js = source.replace(/\.ts$/, ".js");
  exports[subpath] = { types: js.replace(/\.js$/, ".d.ts"), import: js, default: js };
}

const peers = {
  postgres: "^3.4.9",
  "@electric-sql/pglite": ">=0.2.0",
  "@nats-io/nats-core": "^3.0.0",
  "@nats-io/jetstream": "^3.0.0",
  "@nats-io/kv": "^3.0.0",
  "@nats-io/transport-node": "^3.0.0",
  "@bufbuild/protobuf": "^2.0.0",
  "@opentelemetry/api": "^1.10.0",
};
const manifest = {
  name: deno.name,
  version: deno.version,
  description: "Event-sourced entities for TypeScript on Deno, Bun, Node and edge runtimes",
  license: deno.license,
  type: "module",
  main: "./mod.js",
  types: "./mod.d.ts",
  exports,
  // The command-line tool: `npx eventsourced …` (cli/main.ts starts with a shebang).
  bin: { eventsourced: "./cli/main.js" },
  files: [
    "mod.js",
    "mod.d.ts",
    "mod.js.map",
    "src/",
    "adapters/",
    "protobuf/",
    "projection/",
    "admin/",
    "opentelemetry/",
    "shredding/",
    "cli/",
    "testing/",
    "docs/",
    "README.md",
    "LICENSE",
  ],
  sideEffects: false,
  engines: { node: ">=20" },
  peerDependencies: peers,
  peerDependenciesMeta: Object.fromEntries(
    Object.keys(peers).map((name) => [name, { optional: true }]),
  ),
  keywords: ["event-sourcing", "cqrs", "eventsourced", "deno", "bun", "postgres", "nats"],
};
writeFileSync(join(out, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
for (const file of ["README.md", "LICENSE", "docs"]) {
  if (existsSync(join(root, file))) cpSync(join(root, file), join(out, file), { recursive: true });
}
log(`build_npm: wrote ${out} (${Object.keys(exports).length} exports)`);
