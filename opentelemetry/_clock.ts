// Milliseconds since the epoch with the precision of performance.now(): the hot path records
// these numbers, and spans are made from them afterwards with explicit start and end times.

/** Now, in epoch milliseconds (fractional). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
