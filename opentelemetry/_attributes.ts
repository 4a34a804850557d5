// The attribute names of the spans and metrics, in OpenTelemetry style under `eventsourced.`.

/** The entity type, on every span and metric. */
export const ENTITY_TYPE = "eventsourced.entity.type";
/** The entity id, on spans only (ids are unbounded, so never on metrics). */
export const ENTITY_ID = "eventsourced.entity.id";
/** How a command ended: reply, reject, emit, duplicate or a failure reason. */
export const COMMAND_OUTCOME = "eventsourced.command.outcome";
/** The command's `commandId`, when it has one. */
export const COMMAND_ID = "eventsourced.command.id";
/** Whether a spawn succeeded ("ok") or failed ("error"). */
export const SPAWN_OUTCOME = "eventsourced.spawn.outcome";
/** How many events a spawn replayed. */
export const REPLAY_EVENTS = "eventsourced.replay.events";
