import { createHash } from "node:crypto";

/**
 * Bumped whenever the layer tar format changes (paths, modes, mtimes, compression), so a
 * layer cache written by an older builder is never mistaken for the new format.
 */
export const LAYER_FORMAT_VERSION = "nixport-layer-v1";

/**
 * The layer key: sha256 (lowercase hex) of the format version and the layer's store paths,
 * sorted and newline-joined. Two images holding the same set of store paths in one layer
 * share the key, so the layer is written and stored once.
 */
export function layerKey(paths: readonly string[]): string {
  return layerKeyOfSorted(isSorted(paths) ? paths : [...paths].sort(compareStrings));
}

/** layerKey(sorted), for paths known to be sorted already. */
export function layerKeyOfSorted(sorted: readonly string[]): string {
  // Two updates hash the same bytes as one of the concatenation, which need not be built.
  return createHash("sha256").update(`${LAYER_FORMAT_VERSION}\n`).update(sorted.join("\n")).digest("hex");
}

/** Code-unit order, the same on every machine and locale (unlike localeCompare). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isSorted(paths: readonly string[]): boolean {
  for (let i = 1; i < paths.length; i++) if (paths[i - 1]! > paths[i]!) return false;
  return true;
}
