// The HTTP API of the counter fleet, as one `fetch`-style handler that sends every command
// through an EntityClient to whichever host owns the counter. The same handler serves the
// Worker (examples/edge-worker/worker.ts) and the Deno/Bun servers (examples/http-server):
//
//   POST /counter/:id/increase?by=n   200 { id, value } | 409 { id, error: "Overflow" }
//   POST /counter/:id/decrease?by=n   200 { id, value } | 409 { id, error: "Underflow" }
//   GET  /counter/:id                 200 { id, value }
//   GET  /hosts                       200 { hosts: [{ hostId, types: { counter: { shards, entities } }, … }] }
//
// A POST may carry an `Idempotency-Key` header: it becomes the command's `commandId`, so a
// client that lost a reply sends the same request again and is not applied twice: it gets the
// first answer again (the owning host keeps recent answers by command id for a while) or 200
// { id, duplicate: true } (the counter has moved, or it was long ago). Without one, the EntityClient still gives the command a
// random id, which makes its own retries (while a counter moves between hosts) safe.
//
// Bad input (a bad `by`, id or key) is 400, an unknown path 404. Technical failures carry
// the error's message, `code` and `reason`: a counter that stayed overloaded ("mailbox-full")
// or that no host took in time ("unavailable": nothing was done) is 503 with Retry-After; a
// command whose answer did not come in time ("timeout": it may have been applied) is 504;
// any other failure 500.

import { HandleCommandError, isHandleCommandError } from "../../mod.ts";
import type { EntityClient } from "../../adapters/nats/mod.ts";
import { checkStep, type CounterTypes } from "./counter.ts";

/** What the handler needs of an `EntityClient<CounterTypes>`. */
export type CounterClient = Pick<EntityClient<CounterTypes>, "send" | "hosts">;

const PATH = /^\/counter\/([^/]+)(?:\/(increase|decrease))?$/;

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/**
 * A readable message for any thrown value. Some failures carry an empty message (a WebSocket
 * that cannot connect reports no reason in browsers and Node), so the name and the causes
 * are added.
 */
export function errorMessage(error: unknown): string {
  const parts: string[] = [];
  for (let e = error, depth = 0; e !== undefined && depth < 4; depth++) {
    if (e instanceof Error) {
      parts.push(e.message === "" ? e.name : e.message);
      e = e.cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.filter((p, i) => p !== "" && parts.indexOf(p) === i).join(": ") || "unknown error";
}

/** The HTTP status of a failed command: what the caller should do about it. */
function failureStatus(error: unknown): { status: number; retryAfter: boolean } {
  if (error instanceof HandleCommandError) {
    switch (error.reason) {
      case "mailbox-full":
      case "unavailable":
        return { status: 503, retryAfter: true };
      case "timeout":
        return { status: 504, retryAfter: false };
      case "unknown-command":
      case "bad-payload":
      case "invalid-id":
        return { status: 400, retryAfter: false };
      default:
        return { status: 500, retryAfter: false };
    }
  }
  // The client refuses bad options (such as a too long Idempotency-Key) with these.
  if (error instanceof TypeError || error instanceof RangeError) {
    return { status: 400, retryAfter: false };
  }
  return { status: 500, retryAfter: false };
}

/** The response to a command that failed technically (not a rejection). */
export function failureResponse(error: unknown, id?: string): Response {
  const { status, retryAfter } = failureStatus(error);
  const body: Record<string, unknown> = id === undefined ? {} : { id };
  body.error = errorMessage(error);
  if (isHandleCommandError(error)) {
    body.code = error.code;
    body.reason = error.reason;
  }
  return json(body, status, retryAfter ? { "retry-after": "1" } : {});
}

/** Answers one request of the counter API by sending its command through `client`. */
export async function handleCounterRequest(
  request: Request,
  client: CounterClient,
): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === "/hosts") {
    if (request.method !== "GET") {
      return json({ error: `Method ${request.method} not allowed` }, 405);
    }
    try {
      return json({ hosts: await client.hosts() });
    } catch (error) {
      return failureResponse(error);
    }
  }
  const match = PATH.exec(url.pathname);
  if (match === null) return json({ error: "Not found" }, 404);
  let id: string;
  try {
    id = decodeURIComponent(match[1]!);
  } catch {
    return json({ error: "Invalid id: not URI-encoded" }, 400);
  }
  const action = match[2] as "increase" | "decrease" | undefined;
  const method = action === undefined ? "GET" : "POST";
  if (request.method !== method) {
    return json({ error: `Method ${request.method} not allowed` }, 405);
  }
  try {
    if (action === undefined) {
      const result = await client.send("counter", id, "get", undefined);
      return result.ok ? json({ id, value: result.value }) : json({ id, error: result.error }, 409);
    }
    let by: number;
    try {
      by = checkStep(Number(url.searchParams.get("by") ?? "1"));
    } catch (error) {
      return json({ error: errorMessage(error) }, 400);
    }
    const key = request.headers.get("idempotency-key");
    const result = await client.send(
      "counter",
      id,
      action,
      by,
      key === null ? undefined : { commandId: key },
    );
    if ("duplicate" in result) return json({ id, duplicate: true });
    return result.ok ? json({ id, value: result.value }) : json({ id, error: result.error }, 409);
  } catch (error) {
    return failureResponse(error, id);
  }
}
