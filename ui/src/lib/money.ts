// Money in the UI is what Rust sends: decimal strings in yuan. The only sum the
// UI does itself (the change preview while the cashier types) is done in integer
// fen from the digits, never through floating point.

/** "12.3" → 1230; null when the text is not an amount with at most two decimals. */
export function toFen(text: string): number | null {
  const m = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
}

/** 1230 → "12.30" (non-negative). */
export function fenToYuan(fen: number): string {
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, "0")}`;
}

/** The change for `given` against `due`, or null when the text is not an amount or too little. */
export function changeFor(given: string, due: string): string | null {
  const g = toFen(given);
  const d = toFen(due);
  if (g === null || d === null || g < d) return null;
  return fenToYuan(g - d);
}
