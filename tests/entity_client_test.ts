// EntityClient on a real nats-server, answered by responders of the test that speak the
// cluster's wire protocol: input checks before anything is sent, the retries (same command id,
// until the deadline) and how each status and failure reaches the caller. The client with
// real hosts is tested in the host and fault tests.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { headers, type Msg, type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { commandSet, emitAndReply, isHandleCommandError, jsonCodec, reject } from "../mod.ts";
import { EntityClient } from "../adapters/nats/mod.ts";
import {
  COMMAND_HEADER,
  configSubject,
  ID_HEADER,
  REASON_HEADER,
  SEQ_NO_HEADER,
  shardSubject,
  STATUS_HEADER,
  TIMEOUT_HEADER,
  TYPE_HEADER,
} from "../adapters/nats/_cluster_protocol.ts";
import { SHARD_HASH, shardOf } from "../adapters/nats/_shard_hash.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";

let server: NatsTestServer;
let nc: NatsConnection;
let clusterCount = 0;

before(async () => {
  server = await startNatsServer({ own: true });
  nc = await wsconnect({ servers: server.wsUrl });
});

after(async () => {
  await nc?.close();
  await server?.dispose();
});

const account = {
  typeName: "account",
  initialState: 0,
  handleEvent: (balance: number, amount: number) => balance + amount,
};
const accountCommands = commandSet(account, {
  deposit: (payload: { amount: number }) => ({
    handleCommand: () => emitAndReply(payload.amount, (balance: number) => balance),
  }),
  withdraw: (payload: { amount: number }) => ({
    handleCommand: (_id: string, balance: number) =>
      balance < payload.amount
        ? reject("InsufficientFunds" as const)
        : emitAndReply(-payload.amount, (next: number) => next),
  }),
});

const SHARDS = 8;

// A cluster of the test: a config responder and one answer function for every shard subject.
function cluster(answer: (request: Msg, attempt: number) => void): {
  name: string;
  requests: Msg[];
  close(): void;
} {
  const name = `c${++clusterCount}`;
  const requests: Msg[] = [];
  const config = nc.subscribe(configSubject(name), {
    callback: (_error, msg) =>
      void msg.respond(JSON.stringify({ shards: SHARDS, hash: SHARD_HASH, leaseTtl: 2_000 })),
  });
  const commands = nc.subscribe(`es.cluster.${name}.cmd.>`, {
    callback: (_error, msg) => {
      requests.push(msg);
      answer(msg, requests.length);
    },
  });
  return {
    name,
    requests,
    close: () => {
      config.unsubscribe();
      commands.unsubscribe();
    },
  };
}

function answerWith(
  msg: Msg,
  status: string,
  data: Uint8Array | string = "",
  extra: [string, string][] = [],
) {
  const h = headers();
  h.set(STATUS_HEADER, status);
  h.set("Es-Host", "test-host");
  for (const [key, value] of extra) h.set(key, value);
  msg.respond(typeof data === "string" ? new TextEncoder().encode(data) : data, { headers: h });
}

test("a command travels to its shard's subject with its headers and the reply comes back decoded", async () => {
  const c = cluster((msg) => answerWith(msg, "ok", JSON.stringify(7)));
  try {
    const client = new EntityClient(nc, {
      cluster: c.name,
      entities: { account: accountCommands },
    });
    const result = await client.send("account", "alice.x", "deposit", { amount: 7 }, {
      commandId: "cmd-1",
      metadata: { correlationId: "corr" },
    });
    assert.deepEqual(result, { ok: true, value: 7 });
    const [request] = c.requests;
    assert.equal(request!.subject, shardSubject(c.name, "account", shardOf("alice.x", SHARDS)));
    assert.equal(request!.headers?.get(TYPE_HEADER), "account");
    assert.equal(request!.headers?.get(ID_HEADER), "alice.x");
    assert.equal(request!.headers?.get(COMMAND_HEADER), "deposit");
    assert.equal(request!.headers?.get("Es-Command-Id"), "cmd-1");
    assert.equal(request!.headers?.get("Es-Correlation-Id"), "corr");
    assert.ok(Number(request!.headers?.get(TIMEOUT_HEADER)) > 0);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(request!.data)), { amount: 7 });
  } finally {
    c.close();
  }
});

test("rejections and duplicates come back as results", async () => {
  const c = cluster((msg, n) =>
    n === 1
      ? answerWith(msg, "rejected", JSON.stringify("InsufficientFunds"))
      : answerWith(msg, "duplicate", "", [[SEQ_NO_HEADER, "4"]])
  );
  try {
    const client = new EntityClient(nc, {
      cluster: c.name,
      entities: { account: accountCommands },
    });
    const rejected = await client.send("account", "a", "withdraw", { amount: 1 });
    assert.deepEqual(rejected, { ok: false, error: "InsufficientFunds" });
    const duplicate = await client.send("account", "a", "deposit", { amount: 1 });
    assert.deepEqual(duplicate, { ok: true, duplicate: true, value: undefined, seqNo: 4 });
  } finally {
    c.close();
  }
});

test("without a command id the client makes one and every retry reuses it", async () => {
  const c = cluster((msg, n) =>
    n < 3
      ? answerWith(msg, "failed", "moving", [[REASON_HEADER, "not-owner"]])
      : answerWith(msg, "ok", JSON.stringify(1))
  );
  try {
    const client = new EntityClient(nc, { cluster: c.name });
    assert.deepEqual(await client.send("account", "b", "deposit", { amount: 1 }), {
      ok: true,
      value: 1,
    });
    const ids = c.requests.map((msg) => msg.headers?.get("Es-Command-Id"));
    assert.equal(ids.length, 3);
    assert.match(ids[0]!, /^[0-9a-f-]{36}$/);
    assert.deepEqual(new Set(ids).size, 1);
  } finally {
    c.close();
  }
});

test("an answer that never comes is sent again; running out of time then is a timeout", async () => {
  const c = cluster(() => {}); // swallows every request
  try {
    const client = new EntityClient(nc, { cluster: c.name, attemptTimeout: 100 });
    await assert.rejects(
      client.send("account", "c", "deposit", { amount: 1 }, { timeout: 450, commandId: "t-1" }),
      (error) => {
        assert.ok(isHandleCommandError(error));
        assert.equal(error.reason, "timeout");
        assert.match(error.message, /may have been applied/);
        return true;
      },
    );
    assert.ok(c.requests.length >= 2, `${c.requests.length} attempts`);
    assert.ok(c.requests.every((msg) => msg.headers?.get("Es-Command-Id") === "t-1"));
  } finally {
    c.close();
  }
});

test("no host at all: unavailable, and nothing can have been applied", async () => {
  const client = new EntityClient(nc, { cluster: "nobody" });
  await assert.rejects(
    client.send("account", "d", "deposit", { amount: 1 }, { timeout: 300 }),
    (error) => {
      assert.ok(isHandleCommandError(error));
      assert.equal(error.reason, "unavailable");
      assert.match(error.message, /no host of cluster "nobody"/);
      return true;
    },
  );
});

test("a shard without an owner is retried until the deadline, then unavailable", async () => {
  const name = `c${++clusterCount}`;
  const config = nc.subscribe(configSubject(name), {
    callback: (_error, msg) =>
      void msg.respond(JSON.stringify({ shards: SHARDS, hash: SHARD_HASH, leaseTtl: 2_000 })),
  });
  try {
    const client = new EntityClient(nc, { cluster: name });
    await assert.rejects(
      client.send("account", "e", "deposit", { amount: 1 }, { timeout: 300 }),
      (error) => {
        assert.ok(isHandleCommandError(error));
        assert.equal(error.reason, "unavailable");
        // "no host serves its shard", or on a loaded machine "no host of cluster … answered" when
        // even the configuration came too late: both say nothing was done.
        assert.match(error.message, /no host/);
        return true;
      },
    );
  } finally {
    config.unsubscribe();
  }
});

test("an overloaded entity is retried with backoff and reported as mailbox-full", async () => {
  const c = cluster((msg) => answerWith(msg, "failed", "full", [[REASON_HEADER, "mailbox-full"]]));
  try {
    const client = new EntityClient(nc, { cluster: c.name });
    await assert.rejects(
      // Long enough for several attempts on a loaded machine, where the first one also waits
      // for the cluster's configuration.
      client.send("account", "f", "deposit", { amount: 1 }, { timeout: 1_500 }),
      (error) => isHandleCommandError(error) && error.reason === "mailbox-full",
    );
    assert.ok(c.requests.length >= 2, `${c.requests.length} attempts`);
  } finally {
    c.close();
  }
});

test("a failure that is not retried reaches the caller at once with the host's message", async () => {
  const c = cluster((msg) =>
    answerWith(msg, "failed", "the handler threw: boom", [[REASON_HEADER, "command-handler-threw"]])
  );
  try {
    const client = new EntityClient(nc, { cluster: c.name });
    await assert.rejects(
      client.send("account", "g", "deposit", { amount: 1 }),
      (error) => {
        assert.ok(isHandleCommandError(error));
        assert.equal(error.reason, "command-handler-threw");
        assert.match(error.message, /boom.*test-host/);
        return true;
      },
    );
    assert.equal(c.requests.length, 1);
  } finally {
    c.close();
  }
});

test("the signal ends a send at once", async () => {
  const c = cluster(() => {});
  try {
    const client = new EntityClient(nc, { cluster: c.name });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("user left")), 100);
    await assert.rejects(
      client.send("account", "h", "deposit", { amount: 1 }, { signal: controller.signal }),
      (error) => {
        assert.ok(isHandleCommandError(error));
        // Sent: it may have been applied. Not sent yet (the configuration came late on a
        // loaded machine): nothing was done.
        assert.equal(error.reason, c.requests.length > 0 ? "timeout" : "unavailable");
        assert.match(error.message, /signal aborted/);
        return true;
      },
    );
  } finally {
    c.close();
  }
});

test("bad input is refused before anything is sent", async () => {
  const c = cluster((msg) => answerWith(msg, "ok", "1"));
  try {
    const client = new EntityClient(nc, {
      cluster: c.name,
      entities: { account: accountCommands },
    });
    const reasonOf = async (send: () => Promise<unknown>) => {
      try {
        await send();
      } catch (error) {
        return isHandleCommandError(error) ? error.reason : String(error);
      }
      return "resolved";
    };
    const untyped = client as unknown as EntityClient;
    assert.equal(
      await reasonOf(() => untyped.send("transfer", "a", "deposit", {})),
      "unknown-command",
    );
    assert.equal(
      await reasonOf(() => untyped.send("account", "a", "close", {})),
      "unknown-command",
    );
    assert.equal(
      await reasonOf(() => untyped.send("bad type!", "a", "deposit", {})),
      "unknown-command",
    );
    assert.equal(
      await reasonOf(() => client.send("account", "", "deposit", { amount: 1 })),
      "invalid-id",
    );
    assert.equal(
      await reasonOf(() => client.send("account", "a\u0000b", "deposit", { amount: 1 })),
      "invalid-id",
    );
    assert.equal(
      await reasonOf(() => client.send("account", "a", "deposit", { amount: 1n } as never)),
      "bad-payload",
    );
    await assert.rejects(
      client.send("account", "a", "deposit", { amount: 1 }, { timeout: 0 }),
      /Invalid send option "?timeout/,
    );
    await assert.rejects(
      client.send("account", "a", "deposit", { amount: 1 }, { wait: 1 } as never),
      /Unknown send option "wait"/,
    );
    await assert.rejects(
      client.send("account", "a", "deposit", { amount: 1 }, { metadata: { commandId: "" } }),
      /commandId/,
    );
    assert.equal(c.requests.length, 0);
  } finally {
    c.close();
  }
});

test("the constructor names what is wrong", () => {
  assert.throws(() => new EntityClient(nc, { cluster: "a.b" }), /cluster/);
  assert.throws(() => new EntityClient(nc, {} as never), /cluster/);
  assert.throws(() => new EntityClient(nc, { cluster: "a", timeout: -1 }), /timeout/);
  assert.throws(() => new EntityClient(nc, { cluster: "a", clusters: 1 } as never), /clusters/);
  assert.throws(
    () => new EntityClient(nc, { cluster: "a", entities: { transfer: accountCommands } }),
    /command set is for "account"/,
  );
  assert.throws(() => new EntityClient({} as never, { cluster: "a" }), /NatsConnection/);
});

test("a protobuf-like codec of the set is used both ways", async () => {
  const decimal = {
    encode: (value: number) => new TextEncoder().encode(`#${value}`),
    decode: (bytes: Uint8Array) => Number(new TextDecoder().decode(bytes).slice(1)),
  };
  const counter = {
    typeName: "counter",
    initialState: 0,
    handleEvent: (n: number, by: number) => n + by,
  };
  const counterCommands = commandSet(counter, {
    add: (by: number) => ({ handleCommand: () => emitAndReply(by, (n: number) => n) }),
  }, { codecs: { add: { payload: decimal, reply: decimal, error: jsonCodec<never>() } } });
  const c = cluster((msg) => {
    assert.equal(new TextDecoder().decode(msg.data), "#5");
    answerWith(msg, "ok", "#12");
  });
  try {
    const client = new EntityClient(nc, {
      cluster: c.name,
      entities: { counter: counterCommands },
    });
    assert.deepEqual(await client.send("counter", "x", "add", 5), { ok: true, value: 12 });
  } finally {
    c.close();
  }
});

test("hosts() lists what answers $SRV.STATS and nothing when none does", async () => {
  const client = new EntityClient(nc, { cluster: "quiet" });
  assert.deepEqual(await client.hosts({ timeout: 200 }), []);
  const sub = nc.subscribe("$SRV.STATS.eventsourced-listed", {
    callback: (_error, msg) =>
      void msg.respond(JSON.stringify({
        type: "io.nats.micro.v1.stats_response",
        endpoints: [{
          name: "commands",
          data: {
            hostId: "h1",
            started: "x",
            types: { a: { shards: [1], entities: 0 } },
            commands: 0,
          },
        }],
      })),
  });
  try {
    const listed = new EntityClient(nc, { cluster: "listed" });
    const hosts = await listed.hosts({ timeout: 300 });
    assert.deepEqual(hosts.map((host) => host.hostId), ["h1"]);
  } finally {
    sub.unsubscribe();
  }
});
