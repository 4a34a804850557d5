// The HTTP API of the counter, as one `fetch`-style handler over an EntityRegistry. The same
// handler serves the Worker (examples/edge-worker/worker.ts) and the Deno/Bun server
// (examples/http-server/main.ts):
//
//   POST /counter/:id/increase?by=n   200 { id, value } | 409 { id, error: "Overflow" }
//   POST /counter/:id/decrease?by=n   200 { id, value } | 409 { id, error: "Underflow" }
//   GET  /counter/:id                 200 { id, value }
//
// A POST may carry an `Idempotency-Key` header: it becomes the command's `commandId`, so a
// client that lost a reply sends the same request again and gets 200 { id, duplicate: true }
// instead of a second increase.
//
// A bad `by` or key is 400, an unknown path 404, an entity whose mailbox is full 503 with
// Retry-After, any other technical failure (the log is unreachable, the id is invalid) 500 or
// 400 with the error's message.

import { type EntityRegistry, isHandleCommandError, isSpawnError } from "../../mod.ts";
import { type CounterEvent, decrease, get, increase, MAX } from "./counter.ts";

const PATH = /^\/counter\/([^/]+)(?:\/(increase|decrease))?$/;

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
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

/** Answers one request of the counter API from `counters`. */
export async function handleCounterRequest(
  request: Request,
  counters: EntityRegistry<number, CounterEvent>,
): Promise<Response> {
  const url = new URL(request.url);
  const match = PATH.exec(url.pathname);
  if (match === null) return json({ error: "Not found" }, 404);
  let id: string;
  try {
    id = decodeURIComponent(match[1]!);
  } catch {
    return json({ error: "Invalid id: not URI-encoded" }, 400);
  }
  const action = match[2];
  if (action === undefined && request.method !== "GET") {
    return json({ error: `Method ${request.method} not allowed` }, 405);
  }
  if (action !== undefined && request.method !== "POST") {
    return json({ error: `Method ${request.method} not allowed` }, 405);
  }
  let by = 0;
  if (action !== undefined) {
    by = Number(url.searchParams.get("by") ?? "1");
    if (!Number.isSafeInteger(by) || by < 1 || by > MAX) {
      return json({ error: `Invalid by: expected an integer from 1 to ${MAX}` }, 400);
    }
  }
  const key = request.headers.get("idempotency-key");
  try {
    if (action === undefined) {
      const result = await counters.handleCommand(id, get);
      return result.ok ? json({ id, value: result.value }) : json({ id, error: result.error }, 409);
    }
    const command = action === "increase" ? increase(by) : decrease(by);
    const result = await counters.handleCommand(
      id,
      command,
      key === null ? undefined : { metadata: { commandId: key } },
    );
    if ("duplicate" in result) return json({ id, duplicate: true });
    return result.ok ? json({ id, value: result.value }) : json({ id, error: result.error }, 409);
  } catch (error) {
    const message = errorMessage(error);
    if (isHandleCommandError(error) && error.reason === "mailbox-full") {
      const response = json({ id, error: message, code: error.code }, 503);
      response.headers.set("retry-after", "1");
      return response;
    }
    const status = error instanceof TypeError || error instanceof RangeError ? 400 : 500;
    const code = isHandleCommandError(error) || isSpawnError(error) ? error.code : undefined;
    return json({ id, error: message, ...(code === undefined ? {} : { code }) }, status);
  }
}
