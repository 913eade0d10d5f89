/**
 * HTTP Range for blob streaming (RFC 9110 §14): one `bytes=` range. A header that is not
 * a single well-formed bytes range is ignored (the whole blob is sent), as the RFC allows;
 * a well-formed range that misses the blob is "unsatisfiable" (416).
 */
import type { ByteRange } from "./storage/types.ts";

const RANGE_RE = /^bytes=(\d{0,15})-(\d{0,15})$/;

export function parseRange(header: string | undefined, size: number): ByteRange | "unsatisfiable" | null {
  if (header === undefined) return null;
  const m = RANGE_RE.exec(header.trim());
  if (!m) return null;
  const [, first = "", last = ""] = m;
  if (first === "" && last === "") return null;
  if (first === "") {
    // Suffix range: the last N bytes.
    const n = Number(last);
    if (n === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== "" && Number(last) < start) return null; // invalid, so ignored
  if (start >= size) return "unsatisfiable";
  return { start, end };
}
