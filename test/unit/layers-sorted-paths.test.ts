import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { prng } from "../support/prng.ts";
import { sortPaths } from "../../builder/layers/fast/sorted-paths.ts";
import type { SortedPaths } from "../../builder/layers/fast/sorted-paths.ts";
import { radixOrder, radixOrderOfDoubles } from "../../builder/layers/fast/radix.ts";

/**
 * Everything SortedPaths promises, checked against `.sort()` and `indexOf` on the array, by
 * keys (whatever the number of paths) and the plain way alike.
 */
function check(input: string[], absent: string[] = []): SortedPaths {
  const [keyed, plain] = [0, Infinity].map((keyedFrom) => {
    const sorted = sortPaths(input, keyedFrom);
    expect(sorted.paths).toEqual([...input].sort());
    expect(sorted.hasDuplicates).toBe(new Set(input).size !== input.length);
    input.forEach((path, i) => expect(sorted.paths[sorted.position[i]!]).toBe(path));
    if (!sorted.hasDuplicates) {
      expect(new Set(sorted.position).size).toBe(input.length);
      for (const path of input) expect(sorted.indexOf(path)).toBe(sorted.paths.indexOf(path));
    }
    for (const path of absent) {
      // With duplicates, any of a path's indices will do.
      if (sorted.paths.includes(path)) expect(sorted.paths[sorted.indexOf(path)]).toBe(path);
      else expect(sorted.indexOf(path)).toBe(-1);
    }
    return sorted;
  });
  if (!keyed!.hasDuplicates) expect(keyed!.position).toEqual(plain!.position);
  return keyed!;
}

const H = "0123456789abcdfghijklmnpqrsvwxyz";
const rand = prng(7);
/** A store path with a random hash part. */
const storePath = (name: string) => `/nix/store/${Array.from({ length: 32 }, () => H[Math.floor(rand() * 32)]).join("")}-${name}`;
/** One of 32 hash parts that share their first 20 characters: keys tie, names decide. */
const tiedPath = (i: number, name: string) => `/nix/store/${"0".repeat(20)}${[...H.slice(0, 12)].map((_, k) => H[(i * 7 + k) % 32]).join("")}-${name}`;

describe("SortedPaths", () => {
  it.each([
    ["no paths", []],
    ["one path", ["/nix/store/x-a"]],
    ["the empty string", ["", "a", ""]],
    ["store paths", [storePath("b"), storePath("a"), storePath("c")]],
    ["ties in the first code units after the prefix", ["/p/aaaaaaaaaaaaz", "/p/aaaaaaaaaaaay", "/p/aaaaaaaaaaaa", "/p/b"]],
    ["a path that is the common prefix itself", ["/nix/store/", "/nix/store/a", "/nix/store/b"]],
    ["no common prefix", ["b", "a/x", "/nix/store/x", "zzz", "A"]],
    ["a prefix guessed too long", [...Array.from({ length: 10 }, (_, i) => `/nix/store/aaaa${i}`), "/nix/store/b", "/gnu/x"]],
    ["non-ASCII, surrogates and code-unit order", ["é", "e\u0301", "😀", "\uffff", "\ud800", "\udfff", "z", "中文", "\u0000", "Z"]],
    ["duplicates", ["/nix/store/b", "/nix/store/a", "/nix/store/b"]],
  ])("%s", (_, input) => {
    check(input as string[], ["", "/nix/store/", "/nix/store/zz", "q", "\ud83d"]);
  });

  it.each([
    ["random hash parts", (i: number) => storePath(`pkg${i}`)],
    ["hash parts that share their first 20 characters", (i: number) => tiedPath(i, `pkg${i}`)],
  ])("sorts 3000 store paths with %s, finds each, and nothing else", (_, path) => {
    const input = Array.from({ length: 3000 }, (_, i) => path(i));
    const sorted = check(input, input.map((p) => p + "x").concat(input.map((p) => p.slice(0, -1))));
    expect(sorted.indexOf("/nix/store/")).toBe(-1);
  });

  const alphabet = ["a", "b", "z", "/", "-", ".", "é", "ß", "\u0000", "\u007f", "\uffff", "\ud800", "\udfff", "😀", "中"];
  const strings = fc.array(fc.constantFrom(...alphabet), { maxLength: 14 }).map((units) => units.join(""));

  it("agrees with .sort() and indexOf on random strings", () => {
    fc.assert(
      fc.property(fc.array(strings, { maxLength: 60 }), fc.array(strings, { maxLength: 10 }), (input, absent) => {
        check(input, absent);
      }),
      { numRuns: 500 },
    );
  });

  it("agrees with .sort() and indexOf on random strings behind a long common prefix", () => {
    fc.assert(
      fc.property(fc.array(strings, { maxLength: 60 }), fc.array(strings, { maxLength: 10 }), (input, absent) => {
        const prefixed = (s: string) => `/nix/store/${s}`;
        check(input.map(prefixed), absent.map(prefixed));
      }),
      { numRuns: 500 },
    );
  });

  it("agrees with .sort() on arbitrary Unicode strings", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary", maxLength: 20 }), { maxLength: 80 }), (input) => {
        check(input);
      }),
      { numRuns: 200 },
    );
  });
});

describe("radixOrder", () => {
  const byKey = (low: Uint32Array, high: Uint32Array) =>
    Array.from(low, (_, i) => i).sort((a, b) => high[a]! - high[b]! || low[a]! - low[b]! || a - b);

  it("orders indices by 64-bit key, ties by index", () => {
    const word = fc.oneof(fc.constantFrom(0, 1, 2047, 2048, 2 ** 31, 2 ** 32 - 1), fc.integer({ min: 0, max: 2 ** 32 - 1 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(word, word), { maxLength: 200 }), (pairs) => {
        const low = Uint32Array.from(pairs, ([l]) => l);
        const high = Uint32Array.from(pairs, ([, h]) => h);
        expect(Array.from(radixOrder(low, high))).toEqual(byKey(low, high));
      }),
      { numRuns: 300 },
    );
  });

  it("orders doubles by value, -0 and 0 as equals, ties by index", () => {
    const value = fc.oneof(fc.double({ noNaN: true }), fc.constantFrom(0, -0, Infinity, -Infinity, 1, 1e308, -1e-308));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 200 }), (values) => {
        const expected = values.map((_, i) => i).sort((a, b) => (values[a]! < values[b]! ? -1 : values[a]! > values[b]! ? 1 : a - b));
        expect(Array.from(radixOrderOfDoubles(Float64Array.from(values)))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

});
