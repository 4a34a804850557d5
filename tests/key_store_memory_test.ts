// The key store conformance suite against MemoryKeyStore.

import { MemoryKeyStore } from "../shredding/mod.ts";
import { testKeyStore } from "../testing/mod.ts";

testKeyStore("MemoryKeyStore", () => new MemoryKeyStore());
