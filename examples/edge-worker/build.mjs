// Bundles the Worker (worker.ts, with the library's own source and the NATS client) into one
// ES module for workerd / Cloudflare Workers: platform browser, no Node built-ins.
//
//   node examples/edge-worker/build.mjs [outfile]     default: examples/edge-worker/dist/worker.js
//
// Also importable: `await build({ outfile })` returns the outfile's path.

import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));

/** Bundles worker.ts into `outfile`; returns its absolute path. */
export async function build({ outfile = join(here, "dist", "worker.js") } = {}) {
  const out = resolve(outfile);
  await esbuild.build({
    entryPoints: [join(here, "worker.ts")],
    outfile: out,
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    target: "es2022",
    // Any import of a Node built-in is a build error instead of a runtime surprise.
    external: [],
    logLevel: "warning",
    legalComments: "none",
  });
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await build(process.argv[2] ? { outfile: process.argv[2] } : {});
  console.log(`built ${out}`);
}
