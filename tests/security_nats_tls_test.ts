// NATS over TLS with verification on, against real nats-servers that refuse plain text: the
// application's own TCP connection (`@nats-io/transport-node` with the CA) handed to the
// adapters, and `wss://` through the adapters' own `connect()` with each runtime's way of
// trusting a private CA, each way in a child process. A wrong host name, an unknown CA and
// `ws://` fail at connect with an error that says so, and are not retried.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { uniqueTypeName } from "../testing/mod.ts";
import {
  EntityClient,
  EntityHost,
  hostedEntity,
  NatsEventLog,
  NatsKeyStore,
  NatsOffsetStore,
  NatsSnapshotStore,
  NatsStoreAdmin,
} from "../adapters/nats/mod.ts";
import { makeCertificates, type TestCertificates } from "./_servers/certificates.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import type { ChildConfig, ChildResult } from "./_nats_tls_child.ts";
import { accountCommands, type AccountEvent, uniqueCluster } from "./_cluster.ts";
import { jsonBinarize } from "../mod.ts";

let certs: TestCertificates;
let good: NatsTestServer;
let wrongHost: NatsTestServer;
let untrusted: NatsTestServer;

before(async () => {
  certs = makeCertificates();
  good = await startNatsServer({ tls: certs.server });
  wrongHost = await startNatsServer({ tls: certs.wrongHost });
  untrusted = await startNatsServer({ tls: certs.untrusted });
});

after(async () => {
  await good?.dispose();
  await wrongHost?.dispose();
  await untrusted?.dispose();
  certs?.remove();
});

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const text = (bytes: Uint8Array) => decoder.decode(bytes);

async function collect<T>(stream: ReadableStream<T>, count = Infinity): Promise<T[]> {
  const items: T[] = [];
  const reader = stream.getReader();
  try {
    while (items.length < count) {
      const { done, value } = await reader.read();
      if (done) break;
      items.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return items;
}

test("TLS over TCP: the application's connection with `tls: { ca }` carries every adapter's work", async () => {
  const nc: NatsConnection = await connect({ servers: good.tcpUrl!, tls: { ca: certs.ca } });
  const live = new AbortController();
  try {
    assert.equal(nc.info?.tls_required, true, "the server requires TLS of every client");
    const log = new NatsEventLog(nc);
    await log.setup();
    const type = uniqueTypeName();
    // The live read ends with the test, or after 30 s when its events never come.
    const signal = AbortSignal.any([live.signal, AbortSignal.timeout(30_000)]);
    const following = collect(log.eventsByType(type, 0, { live: true, signal }), 3);
    assert.equal(
      await log.persist(type, "a", null, [encoder.encode("a1"), encoder.encode("a2")]),
      2,
    );
    assert.equal(await log.persist(type, "b", null, [encoder.encode("b1")]), 1);

    const byId = await collect(log.eventsById(type, "a", 1));
    assert.deepEqual(byId.map((e) => [e.seqNo, text(e.bytes)]), [[1, "a1"], [2, "a2"]]);
    const byType = await collect(log.eventsByType(type, 0));
    assert.deepEqual(byType.map((e) => `${e.id}:${text(e.bytes)}`), ["a:a1", "a:a2", "b:b1"]);
    const followed = await following;
    assert.deepEqual(followed.map((e) => `${e.id}:${text(e.bytes)}`), ["a:a1", "a:a2", "b:b1"]);

    const snapshots = new NatsSnapshotStore(nc);
    await snapshots.setup();
    await snapshots.save(type, "a", 2, encoder.encode("state"));
    const snapshot = await snapshots.load(type, "a");
    assert.equal(snapshot?.seqNo, 2);
    assert.equal(text(snapshot!.bytes), "state");

    const offsets = new NatsOffsetStore(nc);
    await offsets.setup();
    const name = uniqueTypeName("p");
    const lease = await offsets.acquire(name);
    let worked = false;
    await lease.commit({ from: 0, to: byType.at(-1)!.position }, () => {
      worked = true;
      return Promise.resolve();
    });
    await lease.release();
    assert.equal(worked, true);
    assert.equal(await offsets.load(name), byType.at(-1)!.position);

    const keys = new NatsKeyStore(nc);
    await keys.setup();
    const key = { keyId: new Uint8Array(16).fill(7), key: new Uint8Array(32).fill(9) };
    await keys.create(type, "a", key);
    assert.deepEqual([...(await keys.get(type, "a"))?.key ?? []], [...key.key]);

    const summary = (await new NatsStoreAdmin(nc).entityTypes()).find((t) => t.typeName === type);
    assert.deepEqual({ entities: summary?.entities, events: summary?.events }, {
      entities: 2,
      events: 3,
    });
  } finally {
    live.abort();
    await nc.close();
  }
});

test("TLS over TCP: `tls: { caFile }` trusts the CA from a file", async () => {
  const nc = await connect({ servers: good.tcpUrl!, tls: { caFile: certs.caFile } });
  try {
    const log = new NatsEventLog(nc);
    await log.setup();
    const type = uniqueTypeName();
    await log.persist(type, "a", null, [encoder.encode("x")]);
    assert.deepEqual((await collect(log.eventsById(type, "a", 1))).map((e) => text(e.bytes)), [
      "x",
    ]);
  } finally {
    await nc.close();
  }
});

test("TLS over TCP: an entity host and a client of the cluster work over their own TLS connections", async () => {
  const hostNc = await connect({ servers: good.tcpUrl!, tls: { ca: certs.ca } });
  const clientNc = await connect({ servers: good.tcpUrl!, tls: { ca: certs.ca } });
  const cluster = uniqueCluster();
  const eventLog = new NatsEventLog(hostNc);
  await eventLog.setup();
  const host = await EntityHost.start(hostNc, {
    cluster,
    shards: 4,
    entities: [hostedEntity(accountCommands, {
      eventLog,
      binarize: jsonBinarize<AccountEvent, number>(),
    })],
  });
  try {
    const client = new EntityClient(clientNc, { cluster, entities: { account: accountCommands } });
    const id = `tls-${cluster}`;
    const result = await client.send("account", id, "deposit", { amount: 5 }, { commandId: "d-1" });
    assert.deepEqual(result, { ok: true, value: 5 });
    assert.equal(await eventLog.lastSeqNo("account", id), 1);
  } finally {
    await host.stop();
    await hostNc.close();
    await clientNc.close();
  }
});

// Reconnects stay on and unlimited in these connects: a certificate failure must still reject.
const retrying = { maxReconnectAttempts: -1, reconnectTimeWait: 200 };

test("TLS over TCP: a certificate signed by an unknown CA is refused at connect", async () => {
  await assert.rejects(
    connect({ servers: untrusted.tcpUrl!, tls: { ca: certs.ca }, ...retrying }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
      assert.match(error.message, /unable to verify the first certificate/);
      return true;
    },
  );
});

test("TLS over TCP: a certificate for another host name is refused at connect", async () => {
  await assert.rejects(
    connect({ servers: wrongHost.tcpUrl!, tls: { ca: certs.ca }, ...retrying }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, "ERR_TLS_CERT_ALTNAME_INVALID");
      assert.match(error.message, /does not match certificate's altnames/);
      return true;
    },
  );
});

test("TLS over TCP: without the CA the client still does TLS and refuses the certificate", async () => {
  // No `tls` option: the server's INFO requires TLS, so the client upgrades and verifies
  // against the runtime's default trust, which does not hold the test CA.
  await assert.rejects(
    connect({ servers: good.tcpUrl!, ...retrying }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
      return true;
    },
  );
});

// --- wss:// through NatsEventLog.connect, in child processes ----------------------------------

const runtime = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : `node${process.versions.node.split(".")[0]}`;

/** A way of trusting the test CA: runtime flags, environment variables, or child config. */
interface TrustWay {
  readonly name: string;
  readonly flags?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly config?: Omit<ChildConfig, "servers">;
}

function trustWays(): TrustWay[] {
  const caFile = certs.caFile;
  if (runtime === "deno") {
    return [
      { name: "deno run --cert", flags: ["--cert", caFile] },
      { name: "DENO_CERT", env: { DENO_CERT: caFile } },
    ];
  }
  if (runtime === "bun") {
    return [
      { name: "NODE_EXTRA_CA_CERTS", env: { NODE_EXTRA_CA_CERTS: caFile } },
      { name: "wsFactory with tls.ca", config: { bunWebSocketCaFile: caFile } },
    ];
  }
  const ways: TrustWay[] = [
    { name: "NODE_EXTRA_CA_CERTS", env: { NODE_EXTRA_CA_CERTS: caFile } },
  ];
  if (Number(process.versions.node.split(".")[0]) >= 24) {
    ways.push({ name: "tls.setDefaultCACertificates", config: { nodeDefaultCaFile: caFile } });
  }
  return ways;
}

/** Runs the child with `way`; resolves with its output lines, by label. */
function runChild(
  way: TrustWay,
  servers: Record<string, string>,
): Promise<Map<string, ChildResult>> {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const file = fileURLToPath(new URL(`./_nats_tls_child${ext}`, import.meta.url));
  const runtimeArgs = runtime === "deno"
    ? ["run", "-A", ...(way.flags ?? []), file]
    : runtime === "node20"
    ? ["--experimental-websocket", ...(way.flags ?? []), file]
    : [...(way.flags ?? []), file];
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.DENO_CERT;
  delete env.NODE_EXTRA_CA_CERTS;
  Object.assign(env, way.env, { NATS_TLS_CHILD: JSON.stringify({ ...way.config, servers }) });
  const child = spawn(process.execPath, runtimeArgs, { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (chunk: Uint8Array) => (out += decoder.decode(chunk)));
  child.stderr!.on("data", (chunk: Uint8Array) => (err += decoder.decode(chunk)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`The child (${way.name}) did not finish within 60 s:\n${out}\n${err}`));
    }, 60_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      const results = new Map<string, ChildResult>();
      for (const line of out.split("\n").filter((l) => l.startsWith("{"))) {
        const result = JSON.parse(line) as ChildResult;
        results.set(result.label, result);
      }
      if (code !== 0 || results.size !== Object.keys(servers).length) {
        reject(new Error(`The child (${way.name}) exited with ${code}:\n${out}\n${err}`));
      } else resolve(results);
    });
  });
}

/** What each runtime's WebSocket says about a failure, after the adapter's own words. */
function expectedFailure(label: "wrongHost" | "untrusted" | "plain"): RegExp {
  const tlsHint = /\(if the server is running, TLS verification likely failed/;
  const wssHint = /\(if the server requires TLS, connect with wss:\/\/\)/;
  if (runtime === "deno") {
    return {
      wrongHost: /invalid peer certificate: certificate not valid for name "127\.0\.0\.1"/,
      untrusted: /invalid peer certificate: UnknownIssuer/,
      plain: /Invalid status code: 400.*connect with wss:\/\//,
    }[label];
  }
  if (runtime === "bun") {
    return {
      wrongHost: /TLS handshake failed: Hostname\/IP does not match certificate's altnames/,
      untrusted: /TLS handshake failed: unable to verify the first certificate/,
      plain: /Expected 101 status code: 400.*connect with wss:\/\//,
    }[label];
  }
  // Node's WebSocket (undici) reports no reason: the adapter's hint is all there is.
  const said = runtime === "node20"
    ? "Received network error or non-101 status code\\. "
    : "ConnectionError ";
  return {
    wrongHost: new RegExp(said + tlsHint.source),
    untrusted: new RegExp(said + tlsHint.source),
    plain: new RegExp(said + wssHint.source),
  }[label];
}

function assertRefused(result: ChildResult | undefined, url: string, pattern: RegExp, way: string) {
  assert.ok(result && !result.ok, `${way}: ${url} must be refused, got ${JSON.stringify(result)}`);
  assert.equal(result.name, "StorageError", way);
  assert.equal(result.reason, "unavailable", way);
  assert.ok(
    result.message.startsWith(`Cannot connect to NATS at ${url}: `),
    `${way}: the message names the server: ${result.message}`,
  );
  assert.match(result.message, pattern, way);
}

test("wss:// with connect(): each way this runtime trusts a CA works, and verification stays on", async () => {
  const servers = {
    good: good.wsUrl,
    wrongHost: wrongHost.wsUrl,
    untrusted: untrusted.wsUrl,
    plain: good.wsUrl.replace(/^wss:/, "ws:"),
  };
  assert.ok(servers.good.startsWith("wss://"));
  const ways = trustWays();
  assert.ok(ways.length > 0);
  for (const way of ways) {
    const results = await runChild(way, servers);
    assert.deepEqual(results.get("good"), { label: "good", ok: true, events: 1 }, way.name);
    assertRefused(
      results.get("wrongHost"),
      servers.wrongHost,
      expectedFailure("wrongHost"),
      way.name,
    );
    assertRefused(
      results.get("untrusted"),
      servers.untrusted,
      expectedFailure("untrusted"),
      way.name,
    );
    assertRefused(results.get("plain"), servers.plain, expectedFailure("plain"), way.name);
  }
});

test("wss:// with connect(): without trusting the CA, the server is refused", async () => {
  const results = await runChild({ name: "no trust" }, { good: good.wsUrl });
  assertRefused(
    results.get("good"),
    good.wsUrl,
    runtime === "deno"
      ? /UnknownIssuer/
      : runtime === "bun"
      ? /unable to verify the first certificate/
      : /TLS verification likely failed/,
    "no trust",
  );
});

test("wss:// with connect() and reconnect off: nats.js says only `connection refused`, the hint follows", async () => {
  await assert.rejects(
    NatsEventLog.connect({ servers: untrusted.wsUrl, connectionOptions: { reconnect: false } }),
    (error: Error) => {
      assert.equal(
        error.message,
        `Cannot connect to NATS at ${untrusted.wsUrl}: connection refused (if the server is ` +
          `running, TLS verification likely failed: this runtime does not trust the certificate ` +
          `authority that signed the server's certificate, or the certificate does not name ` +
          `this host)`,
      );
      return true;
    },
  );
});
