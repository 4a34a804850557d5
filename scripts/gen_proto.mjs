// Generates the TypeScript of the example schemas (examples/proto/*.proto) into
// examples/proto/gen/ with `buf generate` and `protoc-gen-es`, both from npm and both run
// offline (a local plugin, no remote registry), then marks each file `deno-lint-ignore-file`
// (generated code, e.g. `& {}` for empty messages) and formats it with `deno fmt`, so the
// committed files pass the repository's check, fmt and lint as they are.
//
//   node scripts/gen_proto.mjs            regenerate examples/proto/gen/ in place
//   node scripts/gen_proto.mjs --check    exit 1 when the committed files are stale
//   node scripts/gen_proto.mjs --tools DIR
//                                         take @bufbuild/buf and @bufbuild/protoc-gen-es from
//                                         DIR/node_modules instead of the repository's
//
// The tools directory may also be given as EVENTSOURCED_PROTO_TOOLS.

import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const protoDir = join(root, "examples", "proto");
const genDir = join(protoDir, "gen");

function fail(message) {
  console.error(`gen_proto: ${message}`);
  process.exit(1);
}

function parseArgs(args) {
  let check = false;
  let tools = process.env.EVENTSOURCED_PROTO_TOOLS || root;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--check") check = true;
    else if (args[i] === "--tools" && args[i + 1] !== undefined) tools = args[++i];
    else fail(`Unknown argument "${args[i]}": expected --check or --tools DIR`);
  }
  return { check, tools: resolve(tools) };
}

function findTools(tools) {
  const modules = join(tools, "node_modules");
  const buf = join(modules, "@bufbuild", "buf", "bin", "buf");
  const plugin = join(modules, "@bufbuild", "protoc-gen-es", "bin", "protoc-gen-es");
  for (const [name, path] of [["@bufbuild/buf", buf], ["@bufbuild/protoc-gen-es", plugin]]) {
    if (!existsSync(path)) {
      fail(`Cannot find ${name} in ${modules}: install the devDependencies (npm install)`);
    }
  }
  const localDeno = join(root, "node_modules", ".bin", "deno");
  return { buf, plugin, deno: existsSync(localDeno) ? localDeno : "deno" };
}

function run(command, args, options) {
  const result = spawnSync(command, args, { stdio: ["ignore", "inherit", "inherit"], ...options });
  if (result.error) fail(`Cannot run ${command}: ${result.error.message}`);
  if (result.status !== 0) fail(`${command} ${args.join(" ")} exited with ${result.status}`);
}

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

/** Generates into a fresh temporary directory and returns it; the caller removes it. */
function generate({ buf, plugin, deno }) {
  const out = mkdtempSync(join(tmpdir(), "eventsourced-proto-"));
  const template = {
    version: "v2",
    plugins: [{
      local: [process.execPath, plugin],
      out: "gen",
      opt: ["target=ts", "import_extension=ts"],
    }],
  };
  run(process.execPath, [buf, "generate", ".", "--template", JSON.stringify(template), "-o", out], {
    cwd: protoDir,
  });
  const files = listFiles(join(out, "gen")).map((file) => join(out, "gen", file));
  if (files.length === 0) fail("buf generate wrote no files");
  for (const file of files) {
    writeFileSync(file, `// deno-lint-ignore-file\n${readFileSync(file, "utf8")}`);
  }
  run(deno, ["fmt", "--quiet", "--config", join(root, "deno.json"), ...files], { cwd: root });
  return out;
}

/** Regenerates examples/proto/gen/, or with `--check` compares it with a fresh generation. */
export function main(args) {
  const { check, tools } = parseArgs(args);
  const out = generate(findTools(tools));
  try {
    const fresh = join(out, "gen");
    const wanted = listFiles(fresh);
    const current = listFiles(genDir);
    const stale = [
      ...wanted.filter((file) =>
        !current.includes(file) ||
        readFileSync(join(fresh, file), "utf8") !== readFileSync(join(genDir, file), "utf8")
      ),
      ...current.filter((file) => !wanted.includes(file)),
    ];
    if (check) {
      if (stale.length > 0) {
        fail(
          `examples/proto/gen is stale (${stale.join(", ")}): run node scripts/gen_proto.mjs`,
        );
      }
      console.log(`gen_proto: examples/proto/gen is current (${wanted.length} files)`);
      return;
    }
    rmSync(genDir, { recursive: true, force: true });
    for (const file of wanted) {
      mkdirSync(dirname(join(genDir, file)), { recursive: true });
      writeFileSync(join(genDir, file), readFileSync(join(fresh, file)));
    }
    console.log(`gen_proto: wrote ${wanted.length} files to examples/proto/gen`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2));
}
