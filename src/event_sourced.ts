/**
 * The definition of an event-sourced entity: its type name, its initial state and the pure
 * function that applies an event to a state.
 *
 * @module
 */

/**
 * State and event handling of an event-sourced entity. Entities are identified by this type
 * name and an id given to {@linkcode spawn}.
 *
 * @typeParam State The entity's state; treat it as immutable.
 * @typeParam Event The events the entity persists.
 *
 * @example A counter
 * ```ts
 * import type { EventSourced } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * type CounterEvent = { type: "increased"; by: number } | { type: "decreased"; by: number };
 * const counter: EventSourced<number, CounterEvent> = {
 *   typeName: "counter",
 *   initialState: 0,
 *   handleEvent: (state, event) => event.type === "increased" ? state + event.by : state - event.by,
 * };
 * assert.equal(counter.handleEvent(1, { type: "increased", by: 2 }), 3);
 * ```
 */
export interface EventSourced<State, Event> {
  /** The entity type's name: 1 to 64 characters of `A-Z a-z 0-9 _ -`. */
  readonly typeName: string;
  /** The state of an entity that has no events yet. */
  readonly initialState: State;
  /**
   * Applies one persisted event to a state and returns the new state. Pure and synchronous:
   * it runs again for every replay, so it must not do I/O or depend on the clock.
   */
  handleEvent(state: State, event: Event): State;
}
