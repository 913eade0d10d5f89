/**
 * Canonical JSON: object keys sorted (by UTF-16 code unit, as JavaScript sorts), no
 * whitespace, undefined members left out. Configs and manifests are hashed as written, so
 * the same value must always give the same bytes.
 */

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`canonical JSON cannot hold ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const obj = value as Record<string, unknown>;
    const members = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`);
    return `{${members.join(",")}}`;
  }
  throw new Error(`canonical JSON cannot hold a ${typeof value}`);
}

/** Canonical JSON as UTF-8 bytes, ready to hash and store. */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}
