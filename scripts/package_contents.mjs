// What the published packages may contain: the library's own files and nothing else. The
// rule lists what is allowed (so a new kind of file fails until someone decides it ships),
// and also names what must never ship (tests, keys, certificates, dev files) so that a later
// widening of the allowed list cannot let them in.

import assert from "node:assert/strict";

/** The folders of library code (the targets of the exports) and the documentation folder. */
export const LIBRARY_FOLDERS = [
  "src",
  "adapters",
  "protobuf",
  "projection",
  "admin",
  "opentelemetry",
  "shredding",
  "cli",
  "testing",
];

const NEVER = [
  [
    /(^|\/)(tests?|bench|scripts|examples|fixtures|\.ci|\.github|node_modules|dist)\//,
    "dev folder",
  ],
  [/(_test|\.test|_bench)\.[a-z.]+$/, "test file"],
  [/\.(pem|key|crt|cer|csr|der|p12|pfx|jks|creds|nk|seed|jwk)$/i, "key or certificate"],
  [/(^|\/)\.env/, "environment file"],
  [/\.log$/, "log file"],
  [/(^|\/)tsconfig[^/]*\.json$/, "compiler config"],
  [/(^|\/)(package-lock\.json|deno\.lock|bun\.lockb?|yarn\.lock|pnpm-lock\.yaml)$/, "lock file"],
  [/(^|\/)\.[^/]+$/, "hidden file"],
];

const PACKAGES = {
  npm: {
    topLevel: ["package.json", "README.md", "LICENSE", "mod.js", "mod.d.ts", "mod.js.map"],
    code: /\.(js|d\.ts|js\.map|d\.ts\.map)$/,
  },
  jsr: {
    // deno publish always adds the package's config file.
    topLevel: ["deno.json", "jsr.json", "README.md", "LICENSE", "mod.ts"],
    code: /\.ts$/,
  },
};

/** Why `path` may not ship in the `kind` package, or `undefined` when it may. */
export function refusal(kind, path) {
  for (const [pattern, what] of NEVER) {
    if (pattern.test(path)) return `${what} ${path}`;
  }
  const { topLevel, code } = PACKAGES[kind];
  const [folder, ...rest] = path.split("/");
  if (rest.length === 0) return topLevel.includes(path) ? undefined : `unexpected file ${path}`;
  if (folder === "docs") return /\.md$/.test(path) ? undefined : `not documentation ${path}`;
  if (!LIBRARY_FOLDERS.includes(folder)) return `unexpected folder ${path}`;
  return code.test(path) ? undefined : `not library code ${path}`;
}

/**
 * Asserts that every path of the `kind` package ("npm" or "jsr") is allowed and that the
 * files `required` (the export targets) are there.
 */
export function assertPackageContents(kind, paths, required) {
  const refused = paths.map((path) => refusal(kind, path)).filter((why) => why !== undefined);
  assert.deepEqual(refused, [], `the ${kind} package holds files it must not ship`);
  const missing = required.filter((path) => !paths.includes(path));
  assert.deepEqual(missing, [], `the ${kind} package lacks files its exports need`);
}
