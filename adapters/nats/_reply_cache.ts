// The answers of recent commands by (type, id, command id). A client that got no answer in
// time sends the command again with the same id: while the first is still running the retry
// joins it (it must not queue a second copy behind it), and for a while after it finished the
// retry gets the original answer rather than a Duplicate without the reply. Only answers that
// end the command (ok, rejected) are kept; a failure may be retried for real.

import { RecentMap } from "../../src/_recent_map.ts";
import type { CommandReply } from "./_command_reply.ts";

interface Kept {
  readonly reply: CommandReply;
  readonly at: number;
}

/** Running and recently finished commands' answers, bounded in number and age. */
export class ReplyCache {
  readonly #running = new Map<string, Promise<CommandReply>>();
  readonly #done: RecentMap<string, Kept>;
  readonly #maxAge: number;

  /** Keeps at most `capacity` finished answers, each for `maxAge` ms. */
  constructor(capacity: number, maxAge: number) {
    this.#done = new RecentMap(capacity);
    this.#maxAge = maxAge;
  }

  /** The key of a command. */
  static key(typeName: string, id: string, commandId: string): string {
    return `${typeName}\u0000${id}\u0000${commandId}`;
  }

  /** The answer of command `key`: the running one's promise, a kept answer, or undefined. */
  find(key: string): Promise<CommandReply> | CommandReply | undefined {
    const running = this.#running.get(key);
    if (running !== undefined) return running;
    const kept = this.#done.get(key);
    if (kept === undefined) return undefined;
    if (performance.now() - kept.at <= this.#maxAge) return kept.reply;
    this.#done.delete(key);
    return undefined;
  }

  /** Records command `key` as running until `answer` settles. */
  track(key: string, answer: Promise<CommandReply>): void {
    this.#running.set(key, answer);
    answer.then((reply) => {
      if (reply.status === "ok" || reply.status === "rejected") {
        this.#done.set(key, { reply, at: performance.now() });
      }
    }, () => {}).finally(() => {
      if (this.#running.get(key) === answer) this.#running.delete(key);
    });
  }

  /** Forgets everything. */
  clear(): void {
    this.#running.clear();
    this.#done.clear();
  }
}
