import { MemoryEventLog, MemorySnapshotStore } from "../mod.ts";
import { testEventLog, testSnapshotStore } from "../testing/mod.ts";

testEventLog("MemoryEventLog", () => new MemoryEventLog());
testSnapshotStore("MemorySnapshotStore", () => new MemorySnapshotStore());
