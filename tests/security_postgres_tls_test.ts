// PostgreSQL over TLS with verification: servers with `ssl = on` that accept TCP over TLS only,
// certificates from a CA this file makes, and every `connect()` adapter verifying the server's
// certificate and host name. A wrong host, an unknown CA and a server without TLS each fail at
// connect() at once with an error saying what was wrong; nothing falls back to plain text.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import postgres from "postgres";
import {
  type PostgresConnectOptions,
  PostgresEventLog,
  PostgresKeyStore,
  PostgresSnapshotStore,
  PostgresStoreAdmin,
} from "../adapters/postgres/mod.ts";
import { isStorageError } from "../src/errors.ts";
import { collect, uniqueTypeName, within } from "../testing/mod.ts";
import { makeCertificates, type TestCertificates } from "./_servers/certificates.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";
import { cli } from "./_cli_run.ts";
import { runCliChild } from "./_cli_child.ts";

const PASSWORD = "tls-secret-9";
let certs: TestCertificates;
let good: PostgresServer;
let wrongHost: PostgresServer;
let localhostOnly: PostgresServer;
let untrusted: PostgresServer;
let plain: PostgresServer;

before(async () => {
  certs = makeCertificates();
  [good, wrongHost, localhostOnly, untrusted, plain] = await Promise.all([
    startPostgres({ tls: certs.server, requireTls: true, fsync: false }),
    startPostgres({ tls: certs.wrongHost, requireTls: true, fsync: false, password: PASSWORD }),
    startPostgres({ tls: certs.localhostOnly, requireTls: true, fsync: false }),
    startPostgres({ tls: certs.untrusted, requireTls: true, fsync: false, password: PASSWORD }),
    // No TLS at all; the password makes it the suite's own server even when PG_URL is set.
    startPostgres({ fsync: false, password: PASSWORD }),
  ]);
}, { timeout: 120_000 });

after(async () => {
  await Promise.all([good, wrongHost, localhostOnly, untrusted, plain].map((s) => s?.stop()));
  certs?.remove();
}, { timeout: 60_000 });

const withQuery = (url: string, query: string) => `${url}?${query}`;
const serverOf = (url: string) => `127.0.0.1:${new URL(url).port}`;

const BOUNDED = { timeout: 60_000 };

/**
 * `PostgresEventLog.connect` with a connect timeout of an hour, bounded here to 20 s: a refusal
 * that retried until the connect timeout fails the test instead of passing.
 */
const connectPromptly = (options: PostgresConnectOptions) =>
  within(
    PostgresEventLog.connect({ ...options, connectTimeout: 3_600 }),
    20_000,
    "PostgresEventLog.connect",
  );

/** The sessions named `name` on the good server, and whether pg_stat_ssl shows all encrypted. */
async function sessions(name: string): Promise<{ count: number; encrypted: boolean }> {
  const sql = postgres(good.url, { ssl: { ca: certs.ca }, max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ count: number; encrypted: boolean | null }[]>`
      select count(*)::int as count, bool_and(s.ssl) as encrypted
      from pg_stat_activity a join pg_stat_ssl s using (pid)
      where a.application_name = ${name}`;
    return { count: row!.count, encrypted: row!.encrypted === true };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

const named = (name: string) => ({ clientOptions: { connection: { application_name: name } } });

/** A check for `assert.rejects`: a StorageError of `reason` whose message matches each pattern. */
const storageError = (reason: string, ...patterns: RegExp[]) => (error: unknown) => {
  assert.ok(isStorageError(error), `expected a StorageError, got ${error}`);
  assert.equal(error.reason, reason, error.message);
  for (const pattern of patterns) assert.match(error.message, pattern);
  assert.ok(!error.message.includes(PASSWORD), `the password leaked: ${error.message}`);
  return true;
};

test(
  "each connect() adapter works over verified TLS with ssl: { ca }, encrypted on the server",
  BOUNDED,
  async () => {
    const tls = { url: good.url, ssl: { ca: certs.ca } };
    const admin = await PostgresStoreAdmin.connect({ ...tls, ...named("tls-admin") });
    try {
      await admin.setup();
      const log = await PostgresEventLog.connect({ ...tls, ...named("tls-log") });
      const snapshots = await PostgresSnapshotStore.connect({ ...tls, ...named("tls-snapshots") });
      const keys = await PostgresKeyStore.connect({ ...tls, ...named("tls-keys") });
      try {
        await keys.setup();
        const typeName = uniqueTypeName("tls");
        assert.equal(await log.persist(typeName, "a", null, [new Uint8Array([1, 2])]), 1);
        const events = await collect(log.eventsById(typeName, "a", 1));
        assert.deepEqual(events.map((e) => [...e.bytes]), [[1, 2]]);
        await snapshots.save(typeName, "a", 1, new Uint8Array([7]), { version: 3 });
        const snapshot = await snapshots.load(typeName, "a");
        assert.deepEqual([snapshot?.seqNo, [...snapshot!.bytes], snapshot?.version], [1, [7], 3]);
        const key = { keyId: new Uint8Array(16).fill(1), key: new Uint8Array(32).fill(2) };
        await keys.create(typeName, "a", key);
        assert.deepEqual([...(await keys.get(typeName, "a"))!.key], [...key.key]);
        const types = await admin.entityTypes();
        assert.ok(types.some((t) => t.typeName === typeName));
        for (const name of ["tls-admin", "tls-log", "tls-snapshots", "tls-keys"]) {
          const seen = await sessions(name);
          assert.ok(seen.count > 0, `${name}: no session on the server`);
          assert.ok(seen.encrypted, `${name}: a session without TLS`);
        }
      } finally {
        await Promise.all([log.close(), snapshots.close(), keys.close()]);
      }
    } finally {
      await admin.close();
    }
  },
);

test(
  "sslmode=verify-full&sslrootcert=FILE in the URL verifies against that CA",
  BOUNDED,
  async () => {
    const url = withQuery(good.url, `sslmode=verify-full&sslrootcert=${certs.caFile}`);
    const log = await PostgresEventLog.connect({ url, ...named("tls-rootcert") });
    try {
      await log.setup();
      assert.equal(await log.lastSeqNo(uniqueTypeName("tls"), "none"), null);
      assert.deepEqual(await sessions("tls-rootcert"), { count: 1, encrypted: true });
    } finally {
      await log.close();
    }
    // The same URL with a CA that did not sign the server's certificate is refused.
    const other = withQuery(good.url, `sslmode=verify-full&sslrootcert=${certs.otherCaFile}`);
    await assert.rejects(
      connectPromptly({ url: other }),
      storageError("invalid-configuration", /not signed by a CA this client trusts/),
    );
  },
);

test(
  "sslmode=verify-full in the URL and ssl: { ca }: the option gives the CA",
  BOUNDED,
  async () => {
    const url = withQuery(good.url, "sslmode=verify-full");
    const log = await PostgresEventLog.connect({ url, ssl: { ca: certs.ca } });
    await log.close();
    // Without the CA, the URL's verify-full checks against the runtime's CAs, which lack it.
    await assert.rejects(
      connectPromptly({ url }),
      storageError("invalid-configuration", /not signed by a CA this client trusts/),
    );
    // `ssl: true` verifies too.
    await assert.rejects(
      connectPromptly({ url: good.url, ssl: true }),
      storageError("invalid-configuration", /not signed by a CA this client trusts/),
    );
  },
);

test("an ssl option weaker than the URL's sslmode, or a second CA, is refused before connecting", async () => {
  const verifyFull = withQuery(plain.url, "sslmode=verify-full");
  for (const ssl of ["require", "prefer", false, { ca: "x", rejectUnauthorized: false }]) {
    await assert.rejects(
      PostgresEventLog.connect({ url: verifyFull, ssl: ssl as "require" }),
      (error: unknown) =>
        error instanceof RangeError && /would not verify the server/.test(error.message) &&
        /sslmode=verify-full/.test(error.message) && !error.message.includes(PASSWORD),
    );
  }
  const rootCert = `sslrootcert=${certs.caFile}`;
  await assert.rejects(
    PostgresEventLog.connect({ url: withQuery(plain.url, rootCert), ssl: { ca: certs.ca } }),
    (error: unknown) => error instanceof RangeError && /give the CA once/.test(error.message),
  );
  for (const mode of ["prefer", "allow", "disable"]) {
    await assert.rejects(
      PostgresEventLog.connect({ url: withQuery(plain.url, `sslmode=${mode}&${rootCert}`) }),
      (error: unknown) => error instanceof RangeError && error.message.includes(`sslmode=${mode}`),
    );
  }
  const missing = `${certs.dir}/no-such-ca.pem`;
  await assert.rejects(
    PostgresEventLog.connect({ url: withQuery(plain.url, `sslrootcert=${missing}`) }),
    (error: unknown) =>
      error instanceof RangeError && error.message.includes(missing) &&
      /cannot read the sslrootcert file/.test(error.message),
  );
});

test(
  "a certificate for another host name fails at connect() naming the server",
  BOUNDED,
  async () => {
    // verify-ca, and sslrootcert with sslmode=require, check the host name as well.
    const alsoChecked = [
      { url: withQuery(wrongHost.url, "sslmode=verify-ca"), ssl: { ca: certs.ca } },
      { url: withQuery(wrongHost.url, `sslmode=require&sslrootcert=${certs.caFile}`) },
    ];
    for (const options of alsoChecked) {
      await assert.rejects(
        connectPromptly(options),
        storageError("invalid-configuration", /does not name the host/),
      );
    }
    await assert.rejects(
      connectPromptly({ url: wrongHost.url, ssl: { ca: certs.ca } }),
      storageError(
        "invalid-configuration",
        /does not name the host/,
        new RegExp(serverOf(wrongHost.url).replaceAll(".", "\\.")),
      ),
    );
  },
);

test(
  "a certificate for localhost only is refused at 127.0.0.1 and accepted at localhost",
  BOUNDED,
  async () => {
    await assert.rejects(
      connectPromptly({ url: localhostOnly.url, ssl: { ca: certs.ca } }),
      storageError("invalid-configuration", /does not name the host/, /127\.0\.0\.1/),
    );
    const byName = localhostOnly.url.replace("127.0.0.1", "localhost");
    const log = await PostgresEventLog.connect({ url: byName, ssl: { ca: certs.ca } });
    await log.close();
  },
);

test(
  "a postgres.js client of your own checks an IP address only when ssl names it as host",
  BOUNDED,
  async () => {
    // postgres.js leaves the TLS server name out for an IP address; node:tls then checks the
    // certificate against "localhost" on Node and Deno, so a certificate for localhost passes at
    // 127.0.0.1 there. Bun checks the address.
    const loose = postgres(localhostOnly.url, { ssl: { ca: certs.ca }, max: 1, onnotice() {} });
    try {
      const answer = within(loose`select 1 as one`, 20_000, "select 1");
      if ("Bun" in globalThis) {
        await assert.rejects(
          answer,
          (error: unknown) => (error as { code?: string }).code === "ERR_TLS_CERT_ALTNAME_INVALID",
        );
      } else assert.deepEqual([...await answer], [{ one: 1 }]);
    } finally {
      await loose.end({ timeout: 5 });
    }
    const strict = postgres(localhostOnly.url, {
      ssl: { ca: certs.ca, host: "127.0.0.1" },
      max: 1,
      onnotice() {},
    });
    try {
      await assert.rejects(
        within(strict`select 1`, 20_000, "select 1"),
        (error: unknown) => (error as { code?: string }).code === "ERR_TLS_CERT_ALTNAME_INVALID",
      );
    } finally {
      await strict.end({ timeout: 5 });
    }
  },
);

test("a certificate from an unknown CA fails at connect() naming the server", BOUNDED, async () => {
  for (const options of [{ ssl: { ca: certs.ca } }, { ssl: "verify-full" as const }]) {
    await assert.rejects(
      connectPromptly({ url: untrusted.url, ...options }),
      storageError(
        "invalid-configuration",
        /not signed by a CA this client trusts/,
        new RegExp(serverOf(untrusted.url).replaceAll(".", "\\.")),
      ),
    );
  }
});

test(
  "a server without TLS fails at connect() when the client asks for verify-full",
  BOUNDED,
  async () => {
    const cases = [
      { url: withQuery(plain.url, "sslmode=verify-full") },
      { url: plain.url, ssl: { ca: certs.ca } },
      { url: withQuery(plain.url, `sslrootcert=${certs.caFile}`) },
    ];
    for (const options of cases) {
      await assert.rejects(
        connectPromptly({ ...options }),
        storageError(
          "invalid-configuration",
          /does not offer TLS/,
          new RegExp(serverOf(plain.url).replaceAll(".", "\\.")),
        ),
      );
    }
  },
);

test("a server that requires TLS refuses a plain-text client", BOUNDED, async () => {
  for (const url of [good.url, withQuery(good.url, "sslmode=disable")]) {
    await assert.rejects(
      connectPromptly({ url }),
      storageError("permission-denied", /no encryption/),
    );
  }
});

test(
  "the CLI connects with sslrootcert in the URL, and names a server it cannot verify",
  BOUNDED,
  async () => {
    const url = withQuery(good.url, `sslmode=verify-full&sslrootcert=${certs.caFile}`);
    const setup = await cli(["setup", url]);
    assert.equal(setup.code, 0, setup.stderr);
    const types = await cli(["types", url, "--json"]);
    assert.equal(types.code, 0, types.stderr);
    assert.ok(Array.isArray(JSON.parse(types.stdout)));
    const refused = await cli([
      "types",
      withQuery(untrusted.url, `sslmode=verify-full&sslrootcert=${certs.caFile}`),
    ]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not signed by a CA this client trusts/);
    assert.match(refused.stderr, new RegExp(serverOf(untrusted.url).replaceAll(".", "\\.")));
    assert.ok(!refused.stderr.includes(PASSWORD));
  },
);

// The CA trusted by the runtime at start: the CLI in a child process of the runtime running this
// test, with only `?sslmode=verify-full` in the URL.
const g = globalThis as { Deno?: unknown };
const trustVariables = g.Deno === undefined
  ? ["NODE_EXTRA_CA_CERTS"]
  : ["NODE_EXTRA_CA_CERTS", "DENO_CERT"];

for (const variable of trustVariables) {
  test(`${variable} makes the runtime trust the CA for sslmode=verify-full`, {
    timeout: 60_000,
  }, async () => {
    const url = withQuery(good.url, "sslmode=verify-full");
    const trusted = await runCliChild(["schema", url, "--json"], { [variable]: certs.caFile });
    assert.match(trusted.stdout, /"latest"/, trusted.stderr);
    const untrustedRun = await runCliChild(["schema", url]);
    assert.equal(untrustedRun.code, 1);
    assert.match(untrustedRun.stderr, /not signed by a CA this client trusts/);
  });
}
