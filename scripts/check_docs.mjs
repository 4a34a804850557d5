// Checks that every symbol exported from the package's entry points has JSDoc with a titled
// @example (the examples themselves run under `deno test --doc`). Exits 1 and lists the
// symbols without one.
//
//   node scripts/check_docs.mjs

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
const entries = Object.values(deno.exports).filter((path) => existsSync(join(root, path)));
const json = execFileSync(
  join(root, "node_modules", ".bin", "deno"),
  ["doc", "--json", ...entries],
  {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  },
);
const { nodes } = JSON.parse(json);

const missing = [];
let checked = 0;
for (const [file, module] of Object.entries(nodes)) {
  const entry = file.replace(`file://${root}/`, "");
  if (!hasTitledExample(module.module_doc)) missing.push(`${entry}: module doc`);
  for (const symbol of module.symbols ?? []) {
    checked++;
    const documented = symbol.declarations.some((d) =>
      hasTitledExample(d.jsDoc) || (d.kind === "reference" && targetDocumented(d.def.target))
    );
    if (!documented) missing.push(`${entry}: ${symbol.name}`);
  }
}

// `deno doc` documents a symbol exported by several entry points once; the others get a
// reference to that declaration.
function targetDocumented(target) {
  return Object.values(nodes).some((module) =>
    (module.symbols ?? []).some((symbol) =>
      symbol.declarations.some((d) =>
        d.location.filename === target.filename && d.location.byteIndex === target.byteIndex &&
        hasTitledExample(d.jsDoc)
      )
    )
  );
}

function hasTitledExample(jsDoc) {
  return (jsDoc?.tags ?? []).some((tag) =>
    tag.kind === "example" && typeof tag.doc === "string" && !tag.doc.trimStart().startsWith("```")
  );
}

if (missing.length > 0) {
  console.error(`check_docs: ${missing.length} of ${checked} exports lack a titled @example:`);
  for (const name of missing) console.error(`  ${name}`);
  process.exit(1);
}
console.log(
  `check_docs: all ${checked} exports of ${entries.length} entry points have a titled @example`,
);
