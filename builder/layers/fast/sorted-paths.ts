/**
 * Store paths in code-unit order (exactly what `.sort()` makes of strings, and the order of
 * compareStrings), with each path's position among them and a lookup of a path's index:
 * what indexClosure spends most of its time on for the ~50k paths of a whole package set.
 *
 * `.sort()` and a `Map<string, number>` compare and hash whole strings, and store paths are
 * long, all start with the same `/nix/store/`, and lie scattered over the heap, so nearly
 * every comparison is a cache miss that then reads past that prefix. Here each path gets a
 * number, its key, made of the few code units that follow the prefix all paths share (in a
 * store path: the start of the hash part, which is random), and the keys are sorted by a
 * radix sort, which never compares. Only paths whose keys tie are compared as strings. An
 * open-addressing table over the same code units finds a path: a lookup hashes a few code
 * units and compares a single string.
 *
 * Nothing here relies on the paths looking like store paths: any strings come out in
 * code-unit order. Strings that share long stretches beyond the common prefix only make
 * more keys tie, which costs time, not correctness. Fewer than KEYED_FROM paths are sorted
 * the plain way.
 */
import { compareStrings } from "../key.ts";
import { radixOrder } from "./radix.ts";

/** Most code units (after the shared prefix) that a key is made of. */
const KEY_UNITS = 6;
/** Keys stay below this, so doubles hold them exactly. */
const EXACT_LIMIT = 2 ** 53;

export interface SortedPaths {
  /** The paths given, in code-unit order. */
  readonly paths: string[];
  /** `position[i]`: the index in `paths` of the i-th path given. */
  readonly position: Int32Array;
  /** Whether some path was given more than once. */
  readonly hasDuplicates: boolean;
  /** The index of `path` in `paths`, or -1 if it is not there. */
  indexOf(path: string): number;
}

/**
 * Below this many paths, the native sort and a Map are quick enough, and being native they
 * need no warming up: a single image's few hundred paths are planned before the JIT has
 * compiled the code here.
 */
export const KEYED_FROM = 4096;

/** The paths sorted, by keys from `keyedFrom` paths on (a parameter for the tests). */
export function sortPaths(input: readonly string[], keyedFrom = KEYED_FROM): SortedPaths {
  return input.length >= keyedFrom ? new KeyedPaths(input) : new MappedPaths(input);
}

/** The plain way: `.sort()` and a Map. */
class MappedPaths implements SortedPaths {
  readonly paths: string[];
  readonly position: Int32Array;
  readonly hasDuplicates: boolean;
  private readonly index = new Map<string, number>();

  constructor(input: readonly string[]) {
    // The default sort compares UTF-16 code units, like compareStrings, without a callback.
    this.paths = [...input].sort();
    this.paths.forEach((path, i) => this.index.set(path, i));
    this.hasDuplicates = this.index.size !== input.length;
    this.position = new Int32Array(input.length);
    input.forEach((path, i) => (this.position[i] = this.index.get(path)!));
  }

  indexOf(path: string): number {
    return this.index.get(path) ?? -1;
  }
}

/** By keys, a radix sort and a table of its own (see the top of the file). */
class KeyedPaths implements SortedPaths {
  readonly paths: string[];
  readonly position: Int32Array;
  readonly hasDuplicates: boolean;

  /** Length of the prefix every path starts with; keys are made of the code units after it. */
  private readonly prefix: number;
  /** Code units in a key. */
  private readonly units: number;
  /**
   * Code unit → its digit in a key: 1 + its rank among the code units that occur within
   * the key positions of any path, 0 if none has it there. Digit 0 in a key stands for
   * "past the end", which sorts before every code unit, as a shorter string sorts before
   * its extensions. `radix` counts the digits; `powers[k]` = radix^k.
   */
  private readonly digit: Int32Array;
  private readonly radix: number;
  private readonly powers: Float64Array;
  /** `keys[j]`: the key of `paths[j]`, so ascending. */
  private readonly keys: Float64Array;
  /**
   * Open addressing by the code units a key is made of — hashed as they are, which costs a
   * lookup far less than the key's arithmetic — at most half full, one slot per distinct
   * key: `slots[2h]` holds the hash, `slots[2h + 1]` the first index in `paths` with that
   * key (-1: empty slot), and `slotPath[h]` that path, loaded alongside the slot rather
   * than after it, as `paths[index]` would be. A lookup nearly always ends at its first
   * slot, with one string comparison.
   */
  private readonly slots: Int32Array;
  private readonly slotPath: string[];
  private readonly shift: number;

  constructor(input: readonly string[]) {
    const n = input.length;
    const { prefix, window, lengths } = keyWindows(input);
    this.prefix = prefix;

    // Digits: the code units that occur in some window, in order.
    this.digit = new Int32Array(0x10000);
    const seen: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < lengths[i]!; k++) {
        const c = window[i * KEY_UNITS + k]!;
        if (this.digit[c] === 0) seen.push(c);
        this.digit[c] = 1;
      }
    }
    seen.sort((a, b) => a - b).forEach((c, rank) => (this.digit[c] = rank + 1));
    const radix = seen.length + 1;
    this.radix = radix;
    // As many units as a double holds exactly.
    const powers = [1];
    while (powers.length <= KEY_UNITS && powers[powers.length - 1]! * radix <= EXACT_LIMIT) powers.push(powers[powers.length - 1]! * radix);
    this.units = powers.length - 1;
    this.powers = Float64Array.from(powers);

    // Each path's key, as a double and as the two 32-bit words that radixOrder sorts by, and
    // its hash (see hash()), from the copied code units: no string is read again.
    const keyOf = new Float64Array(n);
    const low = new Uint32Array(n);
    const high = new Uint32Array(n);
    const hashOf = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const used = Math.min(lengths[i]!, this.units);
      let key = 0;
      let hash = used;
      for (let k = 0; k < used; k++) {
        const c = window[i * KEY_UNITS + k]!;
        key = key * radix + this.digit[c]!;
        hash = Math.imul(hash ^ c, 0x9e3779b1);
      }
      key *= this.powers[this.units - used]!;
      keyOf[i] = key;
      low[i] = key >>> 0;
      high[i] = (key / 0x100000000) >>> 0;
      hashOf[i] = hash;
    }
    // Sorted by key; equal keys stay in input order.
    const order = radixOrder(low, high);
    this.keys = new Float64Array(n);
    for (let j = 0; j < n; j++) this.keys[j] = keyOf[order[j]!]!;
    // Paths with equal keys share their first prefix + units code units: order them by the rest.
    let distinct = 0;
    let duplicates = false;
    for (let a = 0, b = 0; a < n; a = b) {
      for (b = a + 1; b < n && this.keys[b] === this.keys[a]; b++);
      if (b - a > 1) duplicates = sortRun(input, order, a, b) || duplicates;
      distinct++;
    }
    this.hasDuplicates = duplicates;
    this.paths = [];
    this.position = new Int32Array(n);
    for (let j = 0; j < n; j++) {
      this.paths.push(input[order[j]!]!);
      this.position[order[j]!] = j;
    }

    let bits = 1;
    while (2 ** bits < 2 * distinct) bits++;
    this.shift = 32 - bits;
    this.slots = new Int32Array(2 ** (bits + 1)).fill(-1);
    this.slotPath = new Array<string>(2 ** bits).fill("");
    const mask = 2 ** bits - 1;
    for (let j = 0; j < n; j++) {
      if (j > 0 && this.keys[j] === this.keys[j - 1]) continue;
      const hash = hashOf[order[j]!]!;
      let h = hash >>> this.shift;
      while (this.slots[2 * h + 1] !== -1) h = (h + 1) & mask;
      this.slots[2 * h] = hash;
      this.slots[2 * h + 1] = j;
      this.slotPath[h] = this.paths[j]!;
    }
  }

  indexOf(path: string): number {
    const hash = this.hash(path);
    const mask = this.slotPath.length - 1;
    for (let h = hash >>> this.shift; ; h = (h + 1) & mask) {
      const first = this.slots[2 * h + 1]!;
      if (first < 0) return -1;
      if (this.slots[2 * h] !== hash) continue;
      if (this.slotPath[h] === path) return first;
      // `path` is not the first of the paths with its key, or only the hashes are equal.
      const key = this.key(path);
      if (this.keys[first] === key) return this.laterInRun(first, key, path);
    }
  }

  /** indexOf for a path that has the key of `paths[start]` but is not that path. */
  private laterInRun(start: number, key: number, path: string): number {
    // Binary searches: for the run's end among the keys, then for `path` among its strings.
    let lo = start + 1;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! <= key) lo = mid + 1;
      else hi = mid;
    }
    const end = lo;
    lo = start + 1;
    hi = end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.paths[mid]! < path) lo = mid + 1;
      else hi = mid;
    }
    return lo < end && this.paths[lo] === path ? lo : -1;
  }

  /**
   * The digits of `path`'s code units at prefix .. prefix + units, most significant first;
   * -1 if one of them occurs there in no path (so no path equals `path`).
   */
  private key(path: string): number {
    const start = this.prefix;
    const end = Math.min(path.length, start + this.units);
    let key = 0;
    let q = start;
    for (; q < end; q++) {
      const d = this.digit[path.charCodeAt(q)]!;
      if (d === 0) return -1;
      key = key * this.radix + d;
    }
    // Past the end of a shorter path: digits 0.
    return key * this.powers[start + this.units - q]!;
  }

  /**
   * A 32-bit hash of the code units a key is made of (and of how many there are), whose
   * high bits are a slot: multiplicative hashing, one code unit at a time. (The constructor
   * computes the same from its copies of the code units.)
   */
  private hash(path: string): number {
    const start = this.prefix;
    const end = Math.min(path.length, start + this.units);
    let hash = end - start;
    for (let q = start; q < end; q++) hash = Math.imul(hash ^ path.charCodeAt(q), 0x9e3779b1);
    return hash;
  }
}

/**
 * The length of the prefix all strings share, and the code units after it (up to
 * KEY_UNITS of them, fewer where a string ends) of each string: `lengths[i]` units at
 * `window[i * KEY_UNITS]`. Each string is read once — its first cache line is likely a
 * miss — unless the prefix guessed from the first strings turns out too long.
 */
function keyWindows(strings: readonly string[]): { prefix: number; window: Uint16Array; lengths: Uint8Array } {
  const n = strings.length;
  const window = new Uint16Array(n * KEY_UNITS);
  const lengths = new Uint8Array(n);
  let prefix = strings[0] ?? "";
  for (let i = 1; i < Math.min(n, 8); i++) prefix = prefix.slice(0, sharedLength(prefix, strings[i]!));
  const copy = (i: number) => {
    const s = strings[i]!;
    const end = Math.min(s.length, prefix.length + KEY_UNITS);
    for (let q = prefix.length, at = i * KEY_UNITS; q < end; q++) window[at++] = s.charCodeAt(q);
    lengths[i] = end - prefix.length;
  };
  let exact = true;
  for (let i = 0; i < n; i++) {
    if (!strings[i]!.startsWith(prefix)) {
      prefix = prefix.slice(0, sharedLength(prefix, strings[i]!));
      exact = false;
    }
    copy(i);
  }
  // The windows copied before the prefix got shorter start at the wrong place.
  if (!exact) for (let i = 0; i < n; i++) copy(i);
  return { prefix: prefix.length, window, lengths };
}

/** Length of the longest common prefix of a and b. */
function sharedLength(a: string, b: string): number {
  let q = 0;
  while (q < a.length && q < b.length && a.charCodeAt(q) === b.charCodeAt(q)) q++;
  return q;
}

/**
 * Sorts `order[a..b)` (indices into `input`, equal keys) by the strings, stably; whether
 * two of them are equal.
 */
function sortRun(input: readonly string[], order: Int32Array, a: number, b: number): boolean {
  const run = Array.from(order.subarray(a, b)).sort((x, y) => compareStrings(input[x]!, input[y]!));
  order.set(run, a);
  for (let k = 1; k < run.length; k++) if (input[run[k - 1]!] === input[run[k]!]) return true;
  return false;
}
