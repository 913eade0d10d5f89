/**
 * The global order of units: most popular first, then by the hash of the package name
 * (`nameHash`), then by name, then by index. The hash, not the name, orders units of equal
 * popularity: the order is the same in every image, a version bump keeps a unit in its
 * place, and a whole package set's tens of thousands of units sort by one radix sort on
 * numbers instead of comparing strings scattered over the heap (see sorted-paths.ts).
 */
import { compareStrings } from "./key.ts";
import { radixOrder } from "./radix.ts";
import { KEYED_FROM } from "./sorted-paths.ts";

/** Popularity counts are whole numbers below this (see plan.ts's countOf). */
export const MAX_COUNT = 0xffffffff;

export function globalOrder(units: readonly number[], popularity: Float64Array, nameHash: Uint32Array, names: readonly string[]): number[] {
  const before = (a: number, b: number) => popularity[b]! - popularity[a]! || nameHash[a]! - nameHash[b]! || compareStrings(names[a]!, names[b]!) || a - b;
  if (units.length < KEYED_FROM) return [...units].sort(before);
  // One stable radix sort by (MAX_COUNT - popularity, hash): most popular first.
  const high = Uint32Array.from(units, (u) => MAX_COUNT - popularity[u]!);
  const low = Uint32Array.from(units, (u) => nameHash[u]!);
  const order = Array.from(radixOrder(low, high), (i) => units[i]!);
  // Equal popularity and hash — a package's outputs, or a collision: names settle it.
  for (let a = 0, b = 0; a < order.length; a = b) {
    const [p, h] = [popularity[order[a]!], nameHash[order[a]!]];
    for (b = a + 1; b < order.length && popularity[order[b]!] === p && nameHash[order[b]!] === h; b++);
    if (b - a > 1) order.slice(a, b).sort(before).forEach((u, k) => (order[a + k] = u));
  }
  return order;
}
