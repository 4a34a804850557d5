import { toJson } from "./_payload.ts";

/**
 * Prints a JSON array one item at a time, so a long listing (ids, events) is never held in
 * memory; `close` ends the array, also when nothing was added.
 */
export class JsonList {
  #count = 0;
  readonly #write: (line: string) => void;

  /** Starts a list written line by line through `write`. */
  constructor(write: (line: string) => void) {
    this.#write = write;
  }

  /** Adds `value` to the list. */
  add(value: unknown): void {
    this.#write(`${this.#count === 0 ? "[" : ","}${toJson(value)}`);
    this.#count++;
  }

  /** Ends the list. */
  close(): void {
    this.#write(this.#count === 0 ? "[]" : "]");
  }
}
