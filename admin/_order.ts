// The order of every listing of a store admin: code points, which is the order of the UTF-8
// bytes, so PostgreSQL (`collate "C"`), NATS subjects and memory all list ids alike.

/** Compares two well-formed strings by code point. */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

// Surrogates (U+D800–DFFF) start characters above U+FFFF, so they rank after U+E000–FFFF.
function codePointRank(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit;
}
