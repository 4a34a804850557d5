// The counter API's handler (examples/fleet/routes.ts) called directly with a stand-in for
// the EntityClient, for what the server tests cannot provoke at will: each technical failure
// of a command and the HTTP answer it becomes. The real client and hosts are in
// edge_worker_test.ts, browser_test.ts and http_server_test.ts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { HandleCommandError, type HandleCommandFailure } from "../mod.ts";
import { type CounterClient, handleCounterRequest } from "../examples/fleet/routes.ts";

interface Sent {
  type: string;
  id: string;
  command: string;
  payload: unknown;
  options: unknown;
}

/** A client that records what is sent and answers with `answer`. */
function fakeClient(answer: (sent: Sent) => unknown): { client: CounterClient; sent: Sent[] } {
  const sent: Sent[] = [];
  const client = {
    send: (type: string, id: string, command: string, payload: unknown, options?: unknown) => {
      const one = { type, id, command, payload, options };
      sent.push(one);
      return Promise.resolve().then(() => answer(one));
    },
    hosts: () =>
      Promise.resolve([{
        hostId: "h1",
        started: "2025-01-01T00:00:00.000Z",
        types: { counter: { shards: [0, 1], entities: 3 } },
        commands: 7,
      }]),
  } as unknown as CounterClient;
  return { client, sent };
}

const post = (path: string, headers: Record<string, string> = {}) =>
  new Request(`http://localhost${path}`, { method: "POST", headers });

test("a POST sends the counter's command with its step, and the key as its commandId", async () => {
  const { client, sent } = fakeClient(() => ({ ok: true, value: 5 }));
  const response = await handleCounterRequest(
    post("/counter/a%20b/increase?by=5", { "idempotency-key": "k-1" }),
    client,
  );
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { id: "a b", value: 5 });
  assert.deepEqual(sent, [{
    type: "counter",
    id: "a b",
    command: "increase",
    payload: 5,
    options: { commandId: "k-1" },
  }]);
});

test("a GET sends get; a rejection is 409 and a duplicate 200 { duplicate: true }", async () => {
  const answers = [
    { ok: true, value: 9 },
    { ok: false, error: "Underflow" },
    { ok: true, duplicate: true, value: undefined, seqNo: 4 },
  ];
  const { client, sent } = fakeClient(() => answers.shift());
  const got = await handleCounterRequest(new Request("http://localhost/counter/a"), client);
  assert.deepEqual([got.status, await got.json()], [200, { id: "a", value: 9 }]);
  const rejected = await handleCounterRequest(post("/counter/a/decrease?by=20"), client);
  assert.deepEqual([rejected.status, await rejected.json()], [409, {
    id: "a",
    error: "Underflow",
  }]);
  const again = await handleCounterRequest(post("/counter/a/decrease?by=2"), client);
  assert.deepEqual([again.status, await again.json()], [200, { id: "a", duplicate: true }]);
  assert.deepEqual(sent.map((s) => [s.command, s.payload, s.options]), [
    ["get", undefined, undefined],
    ["decrease", 20, undefined],
    ["decrease", 2, undefined],
  ]);
});

test("bad requests are answered without sending anything", async () => {
  const { client, sent } = fakeClient(() => ({ ok: true, value: 0 }));
  const cases: [Request, number][] = [
    [post("/counter/a/increase?by=0"), 400],
    [post("/counter/a/increase?by=1.5"), 400],
    [post("/counter/a/increase?by=1000001"), 400],
    [post("/counter/a/increase?by=x"), 400],
    [post("/counter/%E0%A4%A/increase"), 400],
    [new Request("http://localhost/counter/a/increase"), 405],
    [post("/counter/a"), 405],
    [post("/hosts"), 405],
    [new Request("http://localhost/elsewhere"), 404],
  ];
  for (const [request, status] of cases) {
    const response = await handleCounterRequest(request, client);
    assert.equal(response.status, status, `${request.method} ${request.url}`);
    assert.equal(typeof (await response.json()).error, "string");
  }
  assert.deepEqual(sent, []);
});

test("each technical failure becomes the HTTP answer that tells the caller what to do", async () => {
  const expected: [HandleCommandFailure, number, string | null][] = [
    ["mailbox-full", 503, "1"],
    ["unavailable", 503, "1"],
    ["timeout", 504, null],
    ["invalid-id", 400, null],
    ["bad-payload", 400, null],
    ["unknown-command", 400, null],
    ["persist-outcome-unknown", 500, null],
    ["command-handler-threw", 500, null],
  ];
  for (const [reason, status, retryAfter] of expected) {
    const { client } = fakeClient(() => {
      throw new HandleCommandError(`Cannot send: ${reason} happened`, { reason });
    });
    const response = await handleCounterRequest(post("/counter/a/increase"), client);
    assert.equal(response.status, status, reason);
    assert.equal(response.headers.get("retry-after"), retryAfter, reason);
    assert.deepEqual(await response.json(), {
      id: "a",
      error: `Cannot send: ${reason} happened`,
      code: "EVENTSOURCED_HANDLE_COMMAND_FAILED",
      reason,
    });
  }
  // The client refuses a bad option (such as a too long Idempotency-Key) with a RangeError.
  const { client } = fakeClient(() => {
    throw new RangeError("Invalid send metadata: commandId is too long");
  });
  const refused = await handleCounterRequest(post("/counter/a/increase"), client);
  assert.equal(refused.status, 400);
  assert.deepEqual(await refused.json(), {
    id: "a",
    error: "Invalid send metadata: commandId is too long",
  });
});

test("GET /hosts lists the cluster's hosts and their shards", async () => {
  const { client } = fakeClient(() => undefined);
  const response = await handleCounterRequest(new Request("http://localhost/hosts"), client);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    hosts: [{
      hostId: "h1",
      started: "2025-01-01T00:00:00.000Z",
      types: { counter: { shards: [0, 1], entities: 3 } },
      commands: 7,
    }],
  });
});
