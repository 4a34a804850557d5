// The command line shared by the host (./host.ts) and the HTTP server (../http-server/main.ts):
// the NATS URL and cluster options, and a graceful stop on SIGINT or SIGTERM.

import process from "node:process";

/** The command line of a host (also read by ../http-server/main.ts). */
export interface HostArgs {
  nats: string;
  cluster: string;
  hostId: string | undefined;
  shards: number | undefined;
  stream: string | undefined;
}

/**
 * Reads the host's options from `args`; an option this function does not know is passed to
 * `other` (which returns false to refuse it), so a program can add its own.
 */
export function parseHostArgs(
  args: readonly string[],
  other: (arg: string, value: () => string) => boolean = () => false,
): HostArgs {
  const env = process.env;
  const options: HostArgs = {
    nats: env.NATS_URL ?? "nats://127.0.0.1:4222",
    cluster: env.CLUSTER ?? "counters",
    hostId: undefined,
    shards: undefined,
    stream: undefined,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = () => {
      const next = args[++i];
      if (next === undefined) throw new TypeError(`Missing value after ${arg}`);
      return next;
    };
    if (arg === "--nats") options.nats = value();
    else if (arg === "--cluster") options.cluster = value();
    else if (arg === "--host-id") options.hostId = value();
    else if (arg === "--stream") options.stream = value();
    else if (arg === "--shards") {
      const shards = Number(value());
      if (!Number.isSafeInteger(shards) || shards < 1) {
        throw new RangeError(`Invalid --shards ${shards}: expected a positive integer`);
      }
      options.shards = shards;
    } else if (!other(arg, value)) throw new TypeError(`Unknown argument ${JSON.stringify(arg)}`);
  }
  return options;
}

/**
 * Calls `stop` once on the first SIGINT or SIGTERM, printing "<signal>: stopping" before and
 * "Stopped" after, then exits with 0 (or 1 when `stop` failed).
 */
export function stopOnSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    stop().then(
      () => {
        console.log("Stopped");
        process.exit(0);
      },
      (error) => {
        console.error("Cannot stop cleanly:", error);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
}
