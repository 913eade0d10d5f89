import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { FORCED, layerStarts, levelOf, nameHash, packageName, thresholdOf } from "../../builder/layers/chunks.ts";
import { globalOrder } from "../../builder/layers/order.ts";
import { KEYED_FROM } from "../../builder/layers/fast/sorted-paths.ts";
import { compareStrings } from "../../builder/layers/key.ts";
import { prng } from "../support/prng.ts";

describe("packageName", () => {
  it.each([
    ["glibc-2.39-52", "glibc"],
    ["python3.11-requests-2.31.0", "python3.11-requests"],
    ["openssl-3.0.14-dev", "openssl"],
    ["hello", "hello"],
    ["git-minimal-2.45", "git-minimal"],
    ["source", "source"],
  ])("%s → %s", (name, expected) => expect(packageName(name)).toBe(expected));
});

describe("layerStarts", () => {
  const levels = (...l: number[]) => Uint8Array.from(l);
  it.each([
    ["every unit its own layer at threshold 0", levels(0, 0, 0, 0), levels(0, 0, 0, 0), 10, [0, 1, 2, 3]],
    ["a unit below its threshold joins the layer before", levels(0, 1, 0, 2), levels(0, 1, 1, 1), 10, [0, 1, 3]],
    ["the budget raises the lowest thresholds first", levels(0, 0, 1, 2, 0), levels(0, 0, 0, 0, 0), 3, [0, 2, 3]],
    ["budget 1: one layer", levels(5, 5, FORCED, 5), levels(0, 0, 0, 0), 1, [0]],
    ["a forced cut stays while the budget holds it", levels(0, 3, FORCED, 0), levels(0, 0, 0, 0), 2, [0, 2]],
  ])("%s", (_, l, t, budget, expected) => expect(layerStarts(l, t, budget)).toEqual(expected));

  it("never exceeds the budget, and keeps every cut a larger budget would drop last", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 * FORCED - 1 }), { minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 120 }), (l, budget) => {
        const lv = Uint8Array.from(l);
        const t = new Uint8Array(l.length);
        const starts = layerStarts(lv, t, budget);
        expect(starts.length).toBeLessThanOrEqual(budget);
        expect(starts[0]).toBe(0);
        // Cuts are kept by level: every unit of a higher level than some dropped unit is kept.
        const dropped = l.map((_, i) => i).filter((i) => i > 0 && !starts.includes(i));
        const maxDropped = Math.max(-1, ...dropped.map((i) => l[i]!));
        for (const i of starts.slice(1)) expect(l[i]).toBeGreaterThanOrEqual(maxDropped);
      }),
      { numRuns: 300 },
    );
  });
});

describe("levels and thresholds", () => {
  it("levels have odds 2^-e, whatever the names look like", () => {
    const counts = new Array<number>(34).fill(0);
    for (let i = 0; i < 1 << 14; i++) counts[levelOf(nameHash(`pkg${i}`))]!++;
    expect(counts[0]! / (1 << 14)).toBeCloseTo(0.5, 1);
    expect(counts[1]! / (1 << 14)).toBeCloseTo(0.25, 1);
    expect(counts[2]! / (1 << 14)).toBeCloseTo(0.125, 1);
  });

  it("rises by one per doubling of popularity above 1/32 of the largest count", () => {
    expect([0, 1, 31, 32, 64, 128, 500, 1000].map((c) => thresholdOf(c, 1024))).toEqual([0, 0, 0, 0, 1, 2, 3, 4]);
    expect(thresholdOf(1024, 1024)).toBe(5);
    expect(thresholdOf(0, 0)).toBe(0);
  });
});

describe("globalOrder", () => {
  it("radix-sorts a package set's units into the order the comparator gives", () => {
    const rand = prng(5);
    const n = KEYED_FROM + 500;
    const names = Array.from({ length: n }, () => `pkg${Math.floor(rand() * 800)}-1.${Math.floor(rand() * 3)}`);
    const pop = Float64Array.from(names, () => (rand() < 0.5 ? 0 : Math.floor(rand() * 50)));
    const hashes = Uint32Array.from(names, (name) => nameHash(packageName(name)));
    const units = Array.from({ length: n }, (_, i) => i).filter(() => rand() < 0.9);
    const expected = [...units].sort((a, b) => pop[b]! - pop[a]! || hashes[a]! - hashes[b]! || compareStrings(names[a]!, names[b]!) || a - b);
    expect(globalOrder(units, pop, hashes, names)).toEqual(expected);
  });
});
