// When a message was stored, by the server's clock, in milliseconds: a consumer delivers the
// stored timestamp in nanoseconds in the reply subject, a get returns it as an RFC 3339 time
// with up to nine fraction digits. Both turn the same nanosecond digits into a number with the
// same parseInt, so every read path gives an event the same writtenAt.

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/** Milliseconds from the nanoseconds since the Unix epoch, as nats.js parses them. */
export function millisOfNanos(nanos: number): number {
  return Math.floor(nanos / 1_000_000);
}

/** The writtenAt of a message whose stored time a get returned; NaN when it is no such time. */
export function millisOfTimestamp(timestamp: string): number {
  const match = RFC3339.exec(timestamp);
  if (match === null) return NaN;
  const seconds = Date.parse(`${match[1]}${match[3]}`) / 1000;
  if (!Number.isSafeInteger(seconds) || seconds < 1) return NaN;
  return millisOfNanos(parseInt(`${seconds}${(match[2] ?? "").padEnd(9, "0")}`, 10));
}
