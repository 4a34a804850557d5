// What the EntityHost tests share: an account entity with its command set, hosts started on
// their own TCP connections against a test's nats-server, and a raw request that follows
// adapters/nats/_cluster_protocol.ts byte for byte (so the host is tested without the client).

import { connect } from "@nats-io/transport-node";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import { commandSet, emitAndReply, type EventLog, jsonBinarize, reject, reply } from "../mod.ts";
import { EntityHost, type EntityHostOptions, hostedEntity } from "../adapters/nats/mod.ts";
import {
  COMMAND_HEADER,
  HOST_HEADER,
  ID_HEADER,
  REASON_HEADER,
  SEQ_NO_HEADER,
  shardSubject,
  STATUS_HEADER,
  TIMEOUT_HEADER,
  TYPE_HEADER,
} from "../adapters/nats/_cluster_protocol.ts";
import { WrappedEventLog } from "./_wrapped_log.ts";
import { encodeHeaderValue } from "../adapters/nats/_metadata_headers.ts";
import { shardOf } from "../adapters/nats/_shard_hash.ts";

export type AccountEvent = { type: "deposited"; amount: number } | {
  type: "withdrawn";
  amount: number;
};

export const account = {
  typeName: "account",
  initialState: 0,
  handleEvent: (balance: number, event: AccountEvent) =>
    event.type === "deposited" ? balance + event.amount : balance - event.amount,
};

/** A memory log whose persists can be held (to fill a mailbox, to overlap a retry). */
export class GatedLog extends WrappedEventLog {
  #gate: Promise<void> | undefined;
  /** Persists called, held ones included. */
  started = 0;

  /** Holds every persist from now on until the returned function is called. */
  hold(): () => void {
    let open!: () => void;
    this.#gate = new Promise((resolve) => (open = resolve));
    return () => {
      this.#gate = undefined;
      open();
    };
  }

  override persist(...args: Parameters<WrappedEventLog["persist"]>): Promise<number> {
    this.started++;
    const gate = this.#gate;
    if (gate === undefined) return super.persist(...args);
    return gate.then(() => super.persist(...args));
  }
}

export const accountCommands = commandSet(account, {
  deposit: (p: { amount: number }) => {
    if (typeof p?.amount !== "number" || !(p.amount > 0)) {
      throw new TypeError("amount must be a positive number");
    }
    return {
      handleCommand: () =>
        emitAndReply({ type: "deposited", amount: p.amount } as AccountEvent, (b: number) => b),
    };
  },
  withdraw: (p: { amount: number }) => ({
    handleCommand: (_id: string, balance: number) =>
      balance < p.amount
        ? reject({ code: "InsufficientFunds", balance })
        : emitAndReply({ type: "withdrawn", amount: p.amount } as AccountEvent, (b: number) => b),
  }),
  balance: () => ({ handleCommand: (_id: string, balance: number) => reply(balance) }),
});

/** A unique cluster name per test. */
export function uniqueCluster(): string {
  return `t${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/** A host on its own TCP connection; `stop()` stops the host and closes the connection. */
export interface TestHost {
  readonly host: EntityHost;
  readonly nc: NatsConnection;
  readonly errors: unknown[];
  stop(): Promise<void>;
}

/** Starts a host of accounts on `eventLog` in `cluster` over a new connection to `url`. */
export async function startHost(
  url: string,
  cluster: string,
  eventLog: EventLog,
  options: Partial<EntityHostOptions> & { commandBufferSize?: number } = {},
): Promise<TestHost> {
  const nc = await connect({ servers: url });
  const errors: unknown[] = [];
  const { commandBufferSize, ...rest } = options;
  try {
    const host = await EntityHost.start(nc, {
      cluster,
      leaseTtl: 2_000,
      shards: 16,
      entities: [
        hostedEntity(accountCommands, {
          eventLog,
          binarize: jsonBinarize<AccountEvent, number>(),
          commandBufferSize,
        }),
      ],
      onError: (error) => errors.push(error),
      ...rest,
    });
    return {
      host,
      nc,
      errors,
      stop: async () => {
        try {
          await host.stop();
        } finally {
          await nc.close();
        }
      },
    };
  } catch (error) {
    await nc.close();
    throw error;
  }
}

/** An answer as it came over the wire. */
export interface RawAnswer {
  readonly status: string | undefined;
  readonly reason: string | undefined;
  readonly host: string | undefined;
  readonly seqNo: string | undefined;
  readonly body: unknown;
  readonly text: string;
}

/** Options of {@linkcode rawSend}. */
export interface RawSendOptions {
  readonly commandId?: string;
  readonly timeout?: number;
  readonly shards?: number;
  /** Overrides of request headers (a value `undefined` leaves the header out). */
  readonly headers?: Record<string, string | undefined>;
  /** The subject's shard instead of the id's. */
  readonly shard?: number;
  /** The entity type of the subject (default "account"). */
  readonly subjectType?: string;
  /** The raw body instead of the payload's JSON. */
  readonly body?: Uint8Array;
}

/** Sends one command request the way the protocol describes, without retries. */
export async function rawSend(
  nc: NatsConnection,
  cluster: string,
  id: string,
  command: string,
  payload: unknown,
  options: RawSendOptions = {},
): Promise<RawAnswer> {
  const given: Record<string, string | undefined> = {
    [TYPE_HEADER]: "account",
    [ID_HEADER]: encodeHeaderValue(id),
    [COMMAND_HEADER]: command,
    [TIMEOUT_HEADER]: `${options.timeout ?? 5_000}`,
    "Es-Command-Id": options.commandId,
    ...options.headers,
  };
  const headers = natsHeaders();
  for (const [name, value] of Object.entries(given)) {
    if (value !== undefined) headers.set(name, value);
  }
  const shard = options.shard ?? shardOf(id, options.shards ?? 16);
  const body = options.body ??
    (payload === undefined ? new Uint8Array(0) : new TextEncoder().encode(JSON.stringify(payload)));
  const msg = await nc.request(
    shardSubject(cluster, options.subjectType ?? "account", shard),
    body,
    {
      headers,
      timeout: options.timeout ?? 5_000,
    },
  );
  const text = new TextDecoder().decode(msg.data);
  const status = msg.headers?.get(STATUS_HEADER);
  return {
    status,
    reason: msg.headers?.get(REASON_HEADER) || undefined,
    host: msg.headers?.get(HOST_HEADER) || undefined,
    seqNo: msg.headers?.get(SEQ_NO_HEADER) || undefined,
    body: (status === "ok" || status === "rejected") && text !== "" ? JSON.parse(text) : undefined,
    text,
  };
}

/**
 * Sends until a host answers with something else than no responders or not-owner (the
 * client's retry, in short), within `deadline` ms.
 */
export async function sendRetrying(
  nc: NatsConnection,
  cluster: string,
  id: string,
  command: string,
  payload: unknown,
  options: RawSendOptions & { deadline?: number } = {},
): Promise<RawAnswer> {
  const end = performance.now() + (options.deadline ?? 10_000);
  let last: unknown;
  while (performance.now() < end) {
    try {
      const answer = await rawSend(nc, cluster, id, command, payload, {
        ...options,
        timeout: options.timeout ?? 2_000,
      });
      if (
        answer.status !== "failed" ||
        !["not-owner", "stopped", "mailbox-full", "persist-failed"].includes(answer.reason!)
      ) {
        return answer;
      }
      last = answer;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`No answer for ${id} within the deadline: ${JSON.stringify(last)}`, {
    cause: last,
  });
}

/** Polls `condition` every 50 ms until it holds or `timeout` ms passed; throws then. */
export async function eventually(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeout = 15_000,
): Promise<void> {
  const end = performance.now() + timeout;
  while (!(await condition())) {
    if (performance.now() > end) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The shards each host serves of "account". */
export function ownedShards(hosts: readonly TestHost[]): number[][] {
  return hosts.map((h) => [...(h.host.status().types.account?.shards ?? [])]);
}
