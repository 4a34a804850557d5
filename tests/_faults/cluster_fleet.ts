// The host processes of a cluster fault scenario: each a cluster_host.ts child, started,
// asked for its status, stopped gracefully, killed, paused and resumed by the test.

import assert from "node:assert/strict";
import process from "node:process";
import { type Child, startChild } from "./child.ts";
import { waitUntil } from "./load.ts";
import type { ClusterHostConfig, ClusterHostStatus } from "./cluster_host.ts";

/** One host process. */
export class HostProcess {
  readonly child: Child;
  readonly config: ClusterHostConfig;
  #asked = 0;

  constructor(config: ClusterHostConfig) {
    this.config = config;
    this.child = startChild("cluster_host", config);
  }

  /** The host's id, once it printed `ready`. */
  get hostId(): string | undefined {
    return this.child.lines.find((line) => line[0] === "ready")?.[1];
  }

  /** Waits for `ready`; fails with the child's stderr when it exits first. */
  async ready(ms = 30_000): Promise<string> {
    await this.#until("ready", () => this.hostId !== undefined, ms);
    return this.hostId!;
  }

  /** Asks for a status line and returns it. */
  async status(ms = 10_000): Promise<ClusterHostStatus> {
    const before = this.#statusLines().length;
    this.#asked++;
    this.child.tell("status");
    await this.#until("a status line", () => this.#statusLines().length > before, ms);
    const line = this.#statusLines()[before]!;
    return JSON.parse(line.slice(1).join(" ")) as ClusterHostStatus;
  }

  /** The shards of `type` in a fresh status line. */
  async shards(type: string): Promise<number[]> {
    return [...((await this.status()).types[type]?.shards ?? [])];
  }

  /** Sends `stop`, waits for `stopped` and a clean exit. */
  async stop(ms = 30_000): Promise<void> {
    this.child.tell("stop");
    await this.#until("stopped", () => this.child.lines.some((line) => line[0] === "stopped"), ms);
    const { code } = await this.child.exited;
    assert.equal(code, 0, `host ${this.hostId} exits 0 after stop:\n${this.child.stderr()}`);
  }

  /** SIGKILL, and waits for the exit. */
  async kill(): Promise<void> {
    await this.child.kill();
  }

  // SIGSTOP and SIGCONT go through process.kill: Deno's ChildProcess.kill("SIGSTOP") records
  // the child as ended by SIGSTOP and ignores every later kill(), SIGCONT and SIGKILL included.

  /** SIGSTOP: the process freezes, its sockets stay open. */
  pause(): void {
    process.kill(this.child.process.pid!, "SIGSTOP");
  }

  /** SIGCONT. */
  resume(): void {
    process.kill(this.child.process.pid!, "SIGCONT");
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.child.process.exitCode !== null || this.child.process.signalCode !== null;
  }

  #statusLines(): string[][] {
    return this.child.lines.filter((line) => line[0] === "status");
  }

  async #until(what: string, condition: () => boolean, ms: number): Promise<void> {
    await waitUntil(`host ${this.hostId ?? "(starting)"}: ${what}`, () => {
      if (condition()) return true;
      if (this.exited) {
        throw new Error(
          `host ${this.hostId ?? "(starting)"} exited before ${what}:\n${this.child.stderr()}`,
        );
      }
      return false;
    }, ms);
  }
}

/** Starts `count` hosts with `config` (each its own id `<prefix>-<i>`) and waits until ready. */
export async function startHosts(
  count: number,
  config: Omit<ClusterHostConfig, "hostId">,
  prefix = "h",
): Promise<HostProcess[]> {
  const hosts = Array.from(
    { length: count },
    (_, i) => new HostProcess({ ...config, hostId: `${prefix}${i}` }),
  );
  try {
    await Promise.all(hosts.map((host) => host.ready()));
  } catch (error) {
    await Promise.all(hosts.map((host) => host.kill()));
    throw error;
  }
  return hosts;
}
