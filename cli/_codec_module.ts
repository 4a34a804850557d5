import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import type { Decode } from "./_payload.ts";
import { UsageError } from "./_usage_error.ts";

/**
 * Loads the `--codec` module: its default export is a `Binarize` (its `eventFromBytes` is
 * used) or an object with `decode(bytes, version)`. A path is taken from the working directory;
 * a URL (`file:`, `https:`, `npm:`) is imported as is.
 */
export async function loadCodec(specifier: string): Promise<Decode> {
  const target = /^[a-z][a-z0-9+.-]{1,}:/i.test(specifier)
    ? specifier
    : pathToFileURL(resolve(specifier)).href;
  let module: { default?: unknown };
  try {
    module = await import(target);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new UsageError(`Cannot load --codec "${specifier}": ${detail}`);
  }
  const codec = module.default as
    | { eventFromBytes?: unknown; decode?: unknown }
    | null
    | undefined;
  if (typeof codec === "object" && codec !== null) {
    if (typeof codec.eventFromBytes === "function") {
      const fromBytes = codec.eventFromBytes as Decode;
      return (bytes, version) => fromBytes.call(codec, bytes, version);
    }
    if (typeof codec.decode === "function") {
      const decode = codec.decode as Decode;
      return (bytes, version) => decode.call(codec, bytes, version);
    }
  }
  throw new UsageError(
    `Invalid --codec "${specifier}": its default export is neither a Binarize ` +
      "(eventFromBytes) nor an object with decode(bytes, version)",
  );
}
