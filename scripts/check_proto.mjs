// Fails (exit 1) when examples/proto/gen/ is not what scripts/gen_proto.mjs would generate
// from examples/proto/*.proto today: run it in CI after `npm ci`.
//
//   node scripts/check_proto.mjs [--tools DIR]

import { main } from "./gen_proto.mjs";

main(["--check", ...process.argv.slice(2)]);
