// Bundles the browser example (app.ts: the core, the NATS adapter and the NATS client) into
// one ES module for browsers: platform browser, no Node built-ins.
//
//   node examples/browser/build.mjs [outfile]     default: examples/browser/dist/app.js
//
// Also importable: `await build({ outfile })` returns the outfile's path.

import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));

/** Bundles app.ts into `outfile`; returns its absolute path. */
export async function build({ outfile = join(here, "dist", "app.js") } = {}) {
  const out = resolve(outfile);
  await esbuild.build({
    entryPoints: [join(here, "app.ts")],
    outfile: out,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["chrome120", "firefox120", "safari17"],
    logLevel: "warning",
    legalComments: "none",
    sourcemap: true,
  });
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await build(process.argv[2] ? { outfile: process.argv[2] } : {});
  console.log(`built ${out}`);
}
