// Snapshot saves of one entity, run beside its command handling: while one save is in flight
// only the newest due snapshot waits, older due ones are dropped (a newer one supersedes them).

import type { Binarize } from "./binarize.ts";
import type { SnapshotStore } from "./snapshot_store.ts";

/** What a {@linkcode SnapshotSaver} needs from the entity's config. */
export interface SnapshotTarget<State> {
  readonly snapshotStore: SnapshotStore;
  readonly binarize: Pick<Binarize<unknown, State>, "stateToBytes" | "stateVersion">;
  readonly typeName: string;
  readonly id: string;
  readonly onError: (error: Error) => void;
}

/** Saves an entity's due snapshots one at a time; failures go to `onError`. */
export class SnapshotSaver<State> {
  readonly #target: SnapshotTarget<State>;
  #due: { state: State; seqNo: number } | undefined;
  #saving: Promise<void> | undefined;

  constructor(target: SnapshotTarget<State>) {
    this.#target = target;
  }

  /** Saves `state` at `seqNo` once the save in flight (if any) is done. */
  schedule(state: State, seqNo: number): void {
    this.#due = { state, seqNo };
    this.#saving ??= this.#saveAll();
  }

  /** Resolves when no save is in flight or due. */
  async settled(): Promise<void> {
    while (this.#saving !== undefined) await this.#saving;
  }

  async #saveAll(): Promise<void> {
    const { snapshotStore, binarize, typeName, id, onError } = this.#target;
    await Promise.resolve();
    let due;
    while ((due = this.#due) !== undefined) {
      this.#due = undefined;
      try {
        const bytes = binarize.stateToBytes(due.state);
        const version = binarize.stateVersion;
        await snapshotStore.save(
          typeName,
          id,
          due.seqNo,
          bytes,
          version === undefined || version === 1 ? undefined : { version },
        );
      } catch (cause) {
        onError(
          new Error(`Cannot save snapshot of "${typeName}/${id}" at seqNo ${due.seqNo}`, { cause }),
        );
      }
    }
    this.#saving = undefined;
  }
}
