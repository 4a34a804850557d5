// Secrets stay out of errors: against a PostgreSQL server with a SCRAM password and
// nats-servers that require a user and password or a token, every connect with a wrong secret
// (in the URL or in an option), with a URL nothing listens on and with invalid option values
// fails with an error none of whose forms (message, stack, String, util.inspect, own
// properties, the cause chain) contains the secret; the command-line tool prints none of them
// either. The right secrets still connect.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  PostgresEventLog,
  PostgresKeyStore,
  PostgresSnapshotStore,
  PostgresStoreAdmin,
} from "../adapters/postgres/mod.ts";
import {
  NatsEventLog,
  NatsKeyStore,
  NatsSnapshotStore,
  NatsStoreAdmin,
} from "../adapters/nats/mod.ts";
import { isStorageError } from "../src/errors.ts";
import { MemoryKeyStore } from "../shredding/mod.ts";
import { redactUrl, scrubSecrets, secretsOfUrl } from "../src/_redact.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import { freePort } from "./_servers/free_port.ts";
import { runCliChild } from "./_cli_child.ts";
import { assertHidesSecrets, rejection } from "./_secret_forms.ts";

const PG_RIGHT = "s3cr3t-pg-right-4f1c";
const PG_WRONG = "s3cr3t-pg-wrong-9a7e";
const NATS_RIGHT = "s3cr3t-nats-right-2b8d";
const NATS_WRONG = "s3cr3t-nats-wrong-6c0f";
const TOKEN_RIGHT = "s3cr3t-token-right-1d5a";
const TOKEN_WRONG = "s3cr3t-token-wrong-8e3b";
// Every secret any test uses: none may show in any error, the right ones included.
const ALL = [PG_RIGHT, PG_WRONG, NATS_RIGHT, NATS_WRONG, TOKEN_RIGHT, TOKEN_WRONG];

let pg: PostgresServer;
let users: NatsTestServer;
let tokens: NatsTestServer;

before(async () => {
  pg = await startPostgres({ password: PG_RIGHT });
  users = await startNatsServer({
    extraConfig: `authorization { users: [ { user: "app", password: "${NATS_RIGHT}" } ] }`,
  });
  tokens = await startNatsServer({ extraConfig: `authorization { token: "${TOKEN_RIGHT}" }` });
});

after(async () => {
  await pg?.stop();
  await users?.dispose();
  await tokens?.dispose();
});

/** `url` with its user information replaced by `auth` (`user:pass`, `token` or ""). */
function withAuth(url: string, auth: string): string {
  const bare = url.replace(/^([a-z]+:\/\/)[^@/]*@/, "$1");
  return auth === "" ? bare : bare.replace(/^([a-z]+:\/\/)/, `$1${auth}@`);
}

test("redactUrl hides passwords, NATS tokens and secret query parameters, nothing else", () => {
  const cases: [string, string][] = [
    ["postgres://app:pw-1@db:5432/shop", "postgres://app:***@db:5432/shop"],
    ["postgres://app@db/shop", "postgres://app@db/shop"],
    [
      "postgres://db/shop?sslmode=require&password=pw-2",
      "postgres://db/shop?sslmode=require&password=***",
    ],
    ["wss://tok-3@nats:443", "wss://***@nats:443"],
    ["nats://u:p%40ss@nats", "nats://u:***@nats"],
    ["ws://nats/?auth_token=tok-4&name=x", "ws://nats/?auth_token=***&name=x"],
    ["pglite:./data", "pglite:./data"],
    [
      "postgres://db/x?sslkey=k-5&secret=s-6&sslmode=verify-full",
      "postgres://db/x?sslkey=***&secret=***&sslmode=verify-full",
    ],
  ];
  for (const [url, shown] of cases) assert.equal(redactUrl(url), shown);
  assert.deepEqual(secretsOfUrl("nats://u:p%40ss@nats?token=t%21"), [
    "p%40ss",
    "p@ss",
    "t%21",
    "t!",
  ]);
  assert.equal(scrubSecrets("bad p@ss and p%40ss", ["p@ss", "p%40ss"]), "bad *** and ***");
});

test("key stores: key material given as text is refused without showing it", async () => {
  const material = "s3cr3t-key-material-7f2c";
  const error = await rejection(
    (async () => await new MemoryKeyStore().create("customer", "c-1", material as never))(),
  );
  const message = assertHidesSecrets(error, [material]);
  assert.ok(error instanceof TypeError, message);
  assert.match(message, /Invalid key \(string\): expected an object/);
});

const pgUrl = (password: string) => withAuth(pg.url, `postgres:${password}`);

const POSTGRES_CONNECTS = {
  PostgresEventLog: (options: object) => PostgresEventLog.connect(options),
  PostgresSnapshotStore: (options: object) => PostgresSnapshotStore.connect(options),
  PostgresKeyStore: (options: object) => PostgresKeyStore.connect(options),
  PostgresStoreAdmin: (options: object) => PostgresStoreAdmin.connect(options),
};

test("postgres: a wrong password in the URL is refused, and no form of the error shows it", async () => {
  for (const [name, connect] of Object.entries(POSTGRES_CONNECTS)) {
    const error = await rejection(connect({ url: pgUrl(PG_WRONG), connectTimeout: 10 }));
    const message = assertHidesSecrets(error, ALL);
    assert.ok(isStorageError(error), `${name}: ${message}`);
    assert.equal(error.reason, "permission-denied", `${name}: ${message}`);
    assert.match(message, /authentication failed/, name);
  }
});

test("postgres: a wrong password in clientOptions is refused without showing it", async () => {
  const error = await rejection(
    PostgresEventLog.connect({
      url: withAuth(pg.url, "postgres"),
      clientOptions: { password: PG_WRONG },
      connectTimeout: 10,
    }),
  );
  const message = assertHidesSecrets(error, ALL);
  assert.ok(isStorageError(error) && error.reason === "permission-denied", message);
});

test("postgres: an unreachable server named with a password fails without showing it", async () => {
  const port = await freePort();
  const url = `postgres://postgres:${PG_WRONG}@127.0.0.1:${port}/postgres?password=${PG_RIGHT}`;
  const error = await rejection(PostgresEventLog.connect({ url, connectTimeout: 5 }));
  const message = assertHidesSecrets(error, ALL);
  assert.ok(isStorageError(error) && error.reason === "unavailable", message);
  assert.match(message, new RegExp(`127\\.0\\.0\\.1:${port}`), "it still says where");
});

test("postgres: invalid URLs are refused with their passwords hidden", async () => {
  const notPostgres = await rejection(
    PostgresEventLog.connect({ url: `mysql://app:${PG_WRONG}@db.example/shop` }),
  );
  const message = assertHidesSecrets(notPostgres, ALL);
  assert.ok(notPostgres instanceof RangeError, message);
  assert.match(message, /option url "mysql:\/\/app:\*\*\*@db\.example\/shop": expected/);

  const malformed = await rejection(
    PostgresEventLog.connect({ url: `postgres://app:${PG_WRONG}@[::1/shop` }),
  );
  const text = assertHidesSecrets(malformed, ALL);
  assert.ok(malformed instanceof TypeError, text);
  assert.match(text, /option url "postgres:\/\/app:\*\*\*@\[::1\/shop": expected a well-formed/);
});

test("postgres: the right password in the URL still connects", async () => {
  for (const [name, connect] of Object.entries(POSTGRES_CONNECTS)) {
    const opened = await connect({ url: pgUrl(PG_RIGHT) });
    await opened.close();
    assert.ok(true, name);
  }
});

const NATS_CONNECTS = {
  NatsEventLog: (options: object) => NatsEventLog.connect(options as never),
  NatsSnapshotStore: (options: object) => NatsSnapshotStore.connect(options as never),
  NatsKeyStore: (options: object) => NatsKeyStore.connect(options as never),
  NatsStoreAdmin: (options: object) => NatsStoreAdmin.connect(options as never),
};

test("nats: wrong credentials in the URL or in options are refused without showing them", async () => {
  const attempts: [string, object][] = [
    ["user:pass in the URL", { servers: withAuth(users.wsUrl, `app:${NATS_WRONG}`) }],
    ["pass option", { servers: users.wsUrl, user: "app", pass: NATS_WRONG }],
    ["token in the URL", { servers: withAuth(tokens.wsUrl, TOKEN_WRONG) }],
    ["token option", { servers: tokens.wsUrl, token: TOKEN_WRONG }],
    ["servers array", { servers: [withAuth(tokens.wsUrl, TOKEN_WRONG)] }],
    [
      "connectionOptions",
      { servers: tokens.wsUrl, connectionOptions: { token: TOKEN_WRONG } },
    ],
  ];
  for (const [name, connect] of Object.entries(NATS_CONNECTS)) {
    for (const [how, options] of attempts) {
      const error = await rejection(connect({
        ...options,
        connectionOptions: {
          reconnect: false,
          ...(options as { connectionOptions?: object }).connectionOptions,
        },
      }));
      const message = assertHidesSecrets(error, ALL);
      assert.ok(isStorageError(error), `${name}, ${how}: ${message}`);
      assert.equal(error.reason, "permission-denied", `${name}, ${how}: ${message}`);
      assert.match(message, /Cannot connect to NATS at ws:\/\/127\.0\.0\.1:\d+/, message);
    }
  }
});

test("nats: an unreachable server named with credentials fails without showing them", async () => {
  const port = await freePort();
  for (
    const servers of [
      `ws://app:${NATS_WRONG}@127.0.0.1:${port}`,
      `ws://${TOKEN_WRONG}@127.0.0.1:${port}`,
    ]
  ) {
    const error = await rejection(
      NatsEventLog.connect({ servers, connectionOptions: { reconnect: false, timeout: 5_000 } }),
    );
    const message = assertHidesSecrets(error, ALL);
    assert.ok(isStorageError(error) && error.reason === "unavailable", message);
    assert.match(message, new RegExp(`ws://127\\.0\\.0\\.1:${port}`), "it still says where");
  }
});

test("nats: invalid secret option values are shown as (hidden)", async () => {
  const secretNumber = 31415926535;
  for (const key of ["pass", "token", "nkeySeed", "credentials"]) {
    const error = await rejection(
      NatsEventLog.connect({ servers: users.wsUrl, [key]: secretNumber } as never),
    );
    const message = assertHidesSecrets(error, [...ALL, String(secretNumber)]);
    assert.ok(error instanceof RangeError, message);
    assert.match(message, new RegExp(`option ${key} \\(hidden\\): expected`), message);
  }
  const seedAsAuthenticator = await rejection(
    NatsEventLog.connect({ servers: users.wsUrl, authenticator: TOKEN_WRONG as never }),
  );
  assert.match(assertHidesSecrets(seedAsAuthenticator, ALL), /option authenticator \(hidden\)/);
  const urlAsOptions = await rejection(
    NatsEventLog.connect(withAuth(users.wsUrl, `app:${NATS_WRONG}`) as never),
  );
  assert.match(
    assertHidesSecrets(urlAsOptions, ALL),
    /Invalid NatsEventLog\.connect options "ws:\/\/app:\*\*\*@127\.0\.0\.1:\d+": expected an object/,
  );
  const malformed = await rejection(
    NatsEventLog.connect({ servers: `ws://app:${NATS_WRONG}%zz@127.0.0.1:1` }),
  );
  const message = assertHidesSecrets(malformed, ALL);
  assert.ok(malformed instanceof TypeError, message);
  assert.match(message, /Invalid NATS server URL in ws:\/\/app:\*\*\*@127\.0\.0\.1:1/);
});

test("nats: the right credentials in the URL, in options and as a token still connect", async () => {
  const right: [string, object][] = [
    ["user:pass in the URL", { servers: withAuth(users.wsUrl, `app:${NATS_RIGHT}`) }],
    ["percent-encoded", {
      servers: withAuth(users.wsUrl, `app:${encodeURIComponent(NATS_RIGHT)}`),
    }],
    ["pass option", { servers: users.wsUrl, user: "app", pass: NATS_RIGHT }],
    ["token in the URL", { servers: withAuth(tokens.wsUrl, TOKEN_RIGHT) }],
    ["token option", { servers: tokens.wsUrl, token: TOKEN_RIGHT }],
    [
      "options before the URL",
      { servers: withAuth(users.wsUrl, `app:${NATS_WRONG}`), user: "app", pass: NATS_RIGHT },
    ],
  ];
  for (const [how, options] of right) {
    const log = await NatsEventLog.connect(options as never);
    try {
      await log.setup();
      assert.equal(log.connection.isClosed(), false, how);
    } finally {
      await log.close();
    }
  }
});

test("cli: a wrong password on the command line shows on neither stdout nor stderr", async () => {
  const port = await freePort();
  const lines: [string, string[]][] = [
    ["postgres, wrong password", ["types", pgUrl(PG_WRONG)]],
    ["postgres, unreachable", ["types", `postgres://postgres:${PG_WRONG}@127.0.0.1:${port}/x`]],
    ["nats over WebSocket", ["types", withAuth(users.wsUrl, `app:${NATS_WRONG}`)]],
    ["nats token", ["types", withAuth(tokens.wsUrl, TOKEN_WRONG)]],
    ["nats over TCP", ["types", withAuth(users.tcpUrl!, `app:${NATS_WRONG}`)]],
    ["unknown scheme", ["types", `mysql://app:${PG_WRONG}@127.0.0.1/x`]],
    ["URL in place of the command", [pgUrl(PG_WRONG), "types"]],
    ["one URL too many", ["types", pgUrl(PG_RIGHT), pgUrl(PG_WRONG)]],
  ];
  for (const [how, args] of lines) {
    const { code, stdout, stderr } = await runCliChild([...args, "--timeout", "5000"]);
    for (const secret of ALL) {
      assert.ok(
        !stdout.includes(secret) && !stderr.includes(secret),
        `${how}:\n${stdout}${stderr}`,
      );
    }
    assert.notEqual(code, 0, `${how} fails`);
    assert.match(
      stderr,
      /\*\*\*|authentication|Authorization|refused|Cannot/i,
      `${how}: ${stderr}`,
    );
  }
});
