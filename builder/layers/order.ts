/**
 * The global order of units: most popular first, then by the hash of the package name
 * (`nameHash`), then by name, then by index. The hash, not the name, orders units of equal
 * popularity: the order is the same in every image, a version bump keeps a unit in its
 * place, and a whole package set's tens of thousands of units sort by one radix sort on
 * numbers instead of comparing strings scattered over the heap (see sorted-paths.ts).
 */
import { compareStrings } from "./key.ts";
import { radixOrder } from "./fast/radix.ts";
import { KEYED_FROM } from "./fast/sorted-paths.ts";

/** Popularity counts are whole numbers up to this (see plan.ts's countOf). */
export const MAX_COUNT = 0xffffffff;

export function globalOrder(units: readonly number[], popularity: Float64Array, nameHash: Uint32Array, names: readonly string[]): number[] {
  const before = (a: number, b: number) => popularity[b]! - popularity[a]! || nameHash[a]! - nameHash[b]! || compareStrings(names[a]!, names[b]!) || a - b;
  if (units.length < KEYED_FROM) return [...units].sort(before);
  // One stable radix sort by (most - popularity, hash): most popular first. Counts below the
  // largest one keep the high words small, so their upper digits need no pass.
  const m = units.length;
  let most = 0;
  for (let i = 0; i < m; i++) most = Math.max(most, popularity[units[i]!]!);
  const high = new Uint32Array(m);
  const low = new Uint32Array(m);
  for (let i = 0; i < m; i++) {
    high[i] = most - popularity[units[i]!]!;
    low[i] = nameHash[units[i]!]!;
  }
  const sorted = radixOrder(low, high);
  const order = new Array<number>(m);
  for (let j = 0; j < m; j++) order[j] = units[sorted[j]!]!;
  // Equal popularity and hash — a package's outputs, or a collision: names settle it, by
  // insertion sort (such runs are a few units long).
  for (let j = 1; j < m; j++) {
    const u = order[j]!;
    let k = j - 1;
    while (k >= 0 && popularity[order[k]!] === popularity[u] && nameHash[order[k]!] === nameHash[u] && before(order[k]!, u) > 0) {
      order[k + 1] = order[k]!;
      k--;
    }
    order[k + 1] = u;
  }
  return order;
}
