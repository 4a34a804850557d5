// The entity of the cluster fault scenarios: the tagged counter of load.ts as a command set, so
// hosts can run its commands by name. The test sends every `add` with its tag as the command
// id, so each event names the command that wrote it twice: in its body (the tag) and in its
// metadata (the command id the host passed on).

import { commandSet } from "../../mod.ts";
import { add, getState, taggedCounter } from "./load.ts";

/** The payload of `add`: the tag (also the command id) and the amount. */
export interface AddPayload {
  readonly tag: string;
  readonly by: number;
}

/** The commands of the tagged counter of type `typeName`: `add` and `get`. */
export function clusterCounterCommands(typeName: string) {
  return commandSet(taggedCounter(typeName), {
    add: (payload: AddPayload) => add(payload.tag, payload.by),
    get: () => getState,
  });
}

/** The command set's type, for a typed EntityClient. */
export type ClusterCounterCommands = ReturnType<typeof clusterCounterCommands>;
