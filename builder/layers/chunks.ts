/**
 * Cutting the globally ordered units of an image into at most `budget` layers, so that two
 * images cut the stretches of units they share the same way, as content-defined chunking
 * does: whether a layer starts at a unit depends only on that unit — its `level`, drawn
 * from a hash of its package name, against a threshold set by its popularity — never on its
 * neighbours. An image that gains or loses a unit then changes only the layer holding it,
 * and the layers before it stay where they are.
 *
 * Thresholds rise with popularity: a path in nearly every closure is never the one that
 * differs between two images, so it can share a layer with many others at no cost, while
 * the rare paths that differ from image to image get layers of their own. An image too big
 * for its budget at those thresholds raises the least popular units' thresholds first,
 * which changes the end of its order and keeps the front.
 */

/**
 * Levels run 0..32 (trailing zero bits of a 32-bit hash). A forced cut adds FORCED to its
 * unit's level: above every other, and should there be more than the budget holds, still
 * dropped in the same hashed order.
 */
export const FORCED = 33;
const MAX_LEVEL = 2 * FORCED - 1;

/**
 * Paths in fewer than 1 / FINE_SHARE of the closures the popularity data counts are cut at
 * level 0 (a layer each); each doubling of popularity above that raises the level by one.
 */
export const FINE_SHARE = 32;

/** The level a unit of popularity `count` must reach to start a layer, for data whose largest count is `max`. */
export function thresholdOf(count: number, max: number): number {
  return count > 0 ? Math.max(0, Math.floor(Math.log2((count * FINE_SHARE) / max))) : 0;
}

/**
 * The indices of the units (in order, with their levels and thresholds) where a layer
 * starts: always 0, then every unit whose level reaches its threshold, the lowest
 * thresholds raised to a floor as far as the budget needs.
 */
export function layerStarts(levels: Uint8Array, thresholds: Uint8Array, budget: number): number[] {
  const m = levels.length;
  if (m === 0) return [];
  // eligible[l]: units after the first, of level l, that reach their threshold; a floor f
  // keeps those of level ≥ f.
  const eligible = new Int32Array(MAX_LEVEL + 1);
  let cuts = 0;
  for (let i = 1; i < m; i++) {
    if (levels[i]! < thresholds[i]!) continue;
    eligible[levels[i]!]!++;
    cuts++;
  }
  let floor = 0;
  while (cuts > budget - 1) cuts -= eligible[floor++]!;
  const starts = [0];
  for (let i = 1; i < m; i++) if (levels[i]! >= Math.max(thresholds[i]!, floor)) starts.push(i);
  return starts;
}

/** FNV-1a of `name`'s first `end` code units: a unit's place among equally popular ones, and its level. */
export function nameHash(name: string, end = name.length): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < end; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A unit's level: the trailing zero bits of its name hash, mixed first (murmur3's
 * finalizer) so that the level says nothing about the unit's place in the order. Level ≥ e
 * has odds 2^-e.
 */
export function levelOf(hash: number): number {
  let h = hash;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  return h === 0 ? 32 : 31 - Math.clz32(h & -h);
}

/**
 * A store-path name without its version, the way Nix splits `name` (at the first "-"
 * followed by a non-letter): `glibc-2.39-52` → `glibc`, `python3.11-requests-2.31` →
 * `python3.11-requests`. A version bump keeps it, so the unit keeps its level and place.
 */
export function packageName(name: string): string {
  return name.slice(0, packageNameEnd(name));
}

/** The length of packageName(name), which is all a hash needs (no string is made). */
export function packageNameEnd(name: string): number {
  for (let i = name.indexOf("-"); i >= 0; i = name.indexOf("-", i + 1)) {
    const c = name.charCodeAt(i + 1);
    if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90))) return i;
  }
  return name.length;
}
