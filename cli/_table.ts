/** `rows` under `headers`, columns padded to their widest cell, numbers aligned right. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string[] {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i]?.length ?? 0)));
  return cells.map((row, r) =>
    row.map((cell, i) => {
      const numeric = r > 0 && typeof rows[r - 1]![i] === "number";
      return numeric ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
    }).join("  ").trimEnd()
  );
}
