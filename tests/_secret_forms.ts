// Every form in which a thrown value can reach a log: its message, stack, String() and
// util.inspect forms, the JSON of its own properties, and the same for each error of its
// `cause` chain and of an AggregateError's `errors`. The secrets tests search all of them.

import { inspect } from "node:util";

/** The texts a thrown value shows, itself and every error it holds. */
export function errorForms(thrown: unknown): string[] {
  const forms: string[] = [String(thrown), inspect(thrown, { depth: Infinity })];
  const seen = new Set<unknown>();
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== "object" || seen.has(value)) return;
    seen.add(value);
    const error = value as {
      message?: unknown;
      stack?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    forms.push(String(value), inspect(value, { depth: Infinity, showHidden: true }));
    if (typeof error.message === "string") forms.push(error.message);
    if (typeof error.stack === "string") forms.push(error.stack);
    forms.push(ownPropertiesJson(value));
    visit(error.cause);
    if (Array.isArray(error.errors)) error.errors.forEach(visit);
  };
  visit(thrown);
  return forms;
}

// JSON of every own property (enumerable or not), cycles and unserialisable values shown as
// text, so a secret kept in any property of the error is found.
function ownPropertiesJson(value: object): string {
  const seen = new Set<unknown>();
  const all: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(value)) {
    all[key] = (value as Record<string, unknown>)[key];
  }
  return JSON.stringify(all, (_key, item: unknown) => {
    if (typeof item === "bigint") return String(item);
    if (typeof item === "function") return String(item);
    if (item instanceof Uint8Array) return new TextDecoder().decode(item);
    if (item !== null && typeof item === "object") {
      if (seen.has(item)) return "(cycle)";
      seen.add(item);
      if (item instanceof Error) {
        const fields: Record<string, unknown> = {};
        for (const key of Object.getOwnPropertyNames(item)) {
          fields[key] = (item as unknown as Record<string, unknown>)[key];
        }
        return fields;
      }
    }
    return item;
  });
}

/**
 * Fails naming the form and the secret when any form of `thrown` contains any of `secrets`;
 * returns the error's message for further checks.
 */
export function assertHidesSecrets(thrown: unknown, secrets: readonly string[]): string {
  if (!(thrown instanceof Error)) {
    throw new Error(`expected an Error, got ${inspect(thrown)}`);
  }
  for (const form of errorForms(thrown)) {
    for (const secret of secrets) {
      if (form.includes(secret)) {
        throw new Error(`the secret ${JSON.stringify(secret)} shows in:\n${form}`);
      }
    }
  }
  return thrown.message;
}

/** The value `promise` rejects with; fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    const value = await promise;
    await (value as { close?: () => Promise<void> } | null)?.close?.();
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection, but the call succeeded");
}
