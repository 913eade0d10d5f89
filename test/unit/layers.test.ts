import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { ClosureGraph } from "../../builder/nix/graph.ts";
import { DEFAULT_LAYER_BUDGET, planLayers } from "../../builder/layers/plan.ts";
import type { LayerPlan } from "../../builder/layers/plan.ts";
import { layerKey } from "../../builder/layers/key.ts";

/** `/nix/store/<name padded to 32>-<name>`: paths sort like their names. */
const sp = (name: string) => `/nix/store/${name.replace(/[^a-z0-9]/g, "0").padEnd(32, "0")}-${name}`;

/** The closure of `roots` in `name: [narSize, ...references]`. */
function graph(roots: string[], spec: Record<string, [number, ...string[]]>): ClosureGraph {
  const reached = new Set<string>();
  const visit = (name: string): void => {
    if (reached.has(name)) return;
    reached.add(name);
    spec[name]!.slice(1).forEach((r) => visit(r as string));
  };
  roots.forEach(visit);
  return {
    roots: roots.map(sp),
    paths: Object.entries(spec)
      .filter(([name]) => reached.has(name))
      .map(([name, [narSize, ...refs]]) => ({ path: sp(name), narSize, references: [sp(name), ...refs.map(sp)] })),
  };
}

/** The plan as lists of names, layer by layer. */
const names = (plan: LayerPlan) => plan.layers.map((l) => l.paths.map((p) => p.slice(p.indexOf("-") + 1)));
const pop = (counts: Record<string, number>) => new Map(Object.entries(counts));

const diamond = graph(["a"], { a: [10, "b", "c"], b: [20, "d"], c: [30, "d"], d: [40] });
const chain = graph(["a"], { a: [10, "b"], b: [10, "c"], c: [10, "d"], d: [10] });
const sharedLibc = graph(["x", "y", "z"], {
  x: [5, "libc"], y: [6, "libc"], z: [7, "libc"], libc: [30, "libc-bin"], "libc-bin": [2],
});
const hugeLeaf = graph(["app"], { app: [10, "huge", "small"], huge: [2 ** 31], small: [1] });
const libcPopularity = pop({ x: 1, y: 1, z: 1, libc: 100, "libc-bin": 100 });

// Recorded plans: without popularity data units of equal popularity follow the hash of their
// package name, so "diamond" comes out d, a, c, b on every machine.
describe("planLayers on hand-made graphs", () => {
  it.each([
    ["diamond, room for all", diamond, 10, undefined, [["d"], ["a"], ["c"], ["b"]]],
    ["diamond, budget 2", diamond, 2, undefined, [["a", "c", "d"], ["b"]]],
    ["chain, budget 2", chain, 2, undefined, [["a", "c", "d"], ["b"]]],
    // libc and libc-bin are in the same closures: one unit, first as the most popular.
    ["shared libc", sharedLibc, 10, libcPopularity, [["libc", "libc-bin"], ["y"], ["x"], ["z"]]],
    ["shared libc, budget 2", sharedLibc, 2, libcPopularity, [["libc", "libc-bin", "y"], ["x", "z"]]],
    ["huge leaf, room for all", hugeLeaf, 3, undefined, [["app"], ["huge"], ["small"]]],
    ["budget 1", diamond, 1, undefined, [["a", "b", "c", "d"]]],
    ["budget 1 with a popular unit", sharedLibc, 1, libcPopularity, [["libc", "libc-bin", "x", "y", "z"]]],
  ])("%s", (_, g, budget, popularity, expected) => {
    expect(names(planLayers(g, { budget, popularity }))).toEqual(expected);
  });

  it("gives every path its own layer when the budget allows and nothing co-occurs", () => {
    for (const g of [diamond, chain, sharedLibc, hugeLeaf]) {
      const plan = planLayers(g, { budget: g.paths.length });
      expect(plan.layers.map((l) => l.paths)).toEqual(expect.arrayContaining(g.paths.map((p) => [p.path])));
      expect(plan.layers).toHaveLength(g.paths.length);
    }
  });

  it("puts a big path in a layer of its own when the budget allows", () => {
    const g = graph(["app"], { app: [10, "huge", "a", "b", "c"], huge: [2 ** 31], a: [1], b: [1], c: [1] });
    const plan = planLayers(g, { budget: 3 });
    expect(names(plan).filter((l) => l.includes("huge"))).toEqual([["huge"]]);
    expect(plan.layers).toHaveLength(3);
  });

  it("merges a path with a dominator exactly as popular, whatever the budget", () => {
    const g = graph(["git", "htop"], { git: [10, "git-lib", "zlib"], "git-lib": [5, "zlib"], zlib: [3], htop: [4, "zlib"] });
    // Counts far below the data's largest (libc's): each unit its own layer, most popular first.
    const popularity = pop({ git: 3, "git-lib": 3, zlib: 9, htop: 2, libc: 1000 });
    expect(names(planLayers(g, { budget: 100, popularity }))).toEqual([["zlib"], ["git", "git-lib"], ["htop"]]);
  });

  it("shares paths in nearly every closure in one layer, and gives rare ones a layer each", () => {
    const spec: Record<string, [number, ...string[]]> = { app: [1, ...Array.from({ length: 12 }, (_, i) => `base${i}`), "rare"], rare: [1] };
    for (let i = 0; i < 12; i++) spec[`base${i}`] = [1];
    const counts: Record<string, number> = { app: 1, rare: 2 };
    for (let i = 0; i < 12; i++) counts[`base${i}`] = 1000;
    const plan = names(planLayers(graph(["app"], spec), { popularity: pop(counts) }));
    expect(plan.length).toBeLessThan(8);
    expect(plan.slice(-2)).toEqual([["rare"], ["app"]]);
  });

  it("keeps every layer of an image, in place, when a less popular package is added", () => {
    const spec: Record<string, [number, ...string[]]> = {
      git: [10, "git-lib", "libc"], "git-lib": [5, "libc"], libc: [30], htop: [4, "libc"], jq: [3, "libc", "onig"], onig: [2],
    };
    const popularity = pop({ git: 20, "git-lib": 20, libc: 100, htop: 2, jq: 1, onig: 1 });
    const a = planLayers(graph(["git", "htop"], spec), { popularity });
    const b = planLayers(graph(["git", "htop", "jq"], spec), { popularity });
    expect(names(a)).toEqual([["libc"], ["git", "git-lib"], ["htop"]]);
    expect(names(b)).toEqual([["libc"], ["git", "git-lib"], ["htop"], ["jq", "onig"]]);
  });

  it("keys each layer by its sorted paths and a format version", () => {
    const plan = planLayers(diamond, { budget: 2 });
    for (const layer of plan.layers) {
      expect(layer.key).toBe(layerKey(layer.paths));
      expect(layer.key).toMatch(/^[a-f0-9]{64}$/);
    }
    expect(layerKey([sp("b"), sp("a")])).toBe(layerKey([sp("a"), sp("b")]));
    expect(layerKey([sp("a")])).not.toBe(layerKey([sp("a"), sp("b")]));
  });

  it("reports sizes and popularity, most popular layer first", () => {
    const plan = planLayers(sharedLibc, { budget: 10, popularity: libcPopularity });
    expect(plan.layers.map((l) => l.size)).toEqual([32, 6, 5, 7]);
    expect(plan.layers.map((l) => l.popularity)).toEqual([100, 1, 1, 1]);
  });

  it("rejects bad budgets and graphs that are not closed", () => {
    expect(() => planLayers(diamond, { budget: 0 })).toThrow(/budget/);
    const open: ClosureGraph = { roots: [sp("a")], paths: [{ path: sp("a"), narSize: 1, references: [sp("gone")] }] };
    expect(() => planLayers(open)).toThrow(/not in the closure graph/);
    expect(() => planLayers({ roots: [], paths: [...diamond.paths, diamond.paths[0]!] })).toThrow(/twice/);
    expect(planLayers({ roots: [], paths: [] }).layers).toEqual([]);
    expect(DEFAULT_LAYER_BUDGET).toBeLessThan(125);
  });
});

/** Random closed DAGs: path i refers only to paths after it; roots include every unreferenced path. */
const randomClosure = fc.integer({ min: 1, max: 60 }).chain((n) =>
  fc.record({
    refs: fc.array(fc.uniqueArray(fc.integer({ min: 1, max: 5 }), { maxLength: 4 }), { minLength: n, maxLength: n }),
    sizes: fc.array(fc.integer({ min: 0, max: 1e9 }), { minLength: n, maxLength: n }),
    pops: fc.array(fc.integer({ min: 0, max: 20 }), { minLength: n, maxLength: n }),
    extraRoots: fc.array(fc.integer({ min: 0, max: n - 1 }), { maxLength: 3 }),
    budget: fc.integer({ min: 1, max: 40 }),
    seed: fc.integer(),
  }).map(({ refs, sizes, pops, extraRoots, budget, seed }) => {
    const name = (i: number) => `p${String(i).padStart(3, "0")}-1.0`;
    const references = refs.map((r, i) => r.map((d) => i + d).filter((j) => j < n));
    const referred = new Set(references.flat());
    const roots = [...new Set([...extraRoots, ...references.keys()].filter((i) => !referred.has(i) || extraRoots.includes(i)))];
    const g: ClosureGraph = {
      roots: roots.map((i) => sp(name(i))),
      paths: references.map((r, i) => ({ path: sp(name(i)), narSize: sizes[i]!, references: r.map((j) => sp(name(j))) })),
    };
    const popularity = new Map(pops.map((p, i) => [name(i), p]));
    const leaves = roots.filter((i) => !referred.has(i));
    return { g, popularity, budget, seed, leaf: name(leaves[Math.abs(seed) % leaves.length]!) };
  }),
);

/** The graph and popularity of the next revision, where leaf package `leaf` (`pNNN-1.0`) is at version 1.1. */
function bumped(g: ClosureGraph, popularity: Map<string, number>, leaf: string, narSize: number) {
  const [from, to] = [sp(leaf), sp(leaf.replace(/-1\.0$/, "-1.1"))];
  const swap = (p: string) => (p === from ? to : p);
  const next: ClosureGraph = {
    roots: g.roots.map(swap),
    paths: g.paths.map((p) => ({ ...p, path: swap(p.path), narSize: p.path === from ? narSize : p.narSize, references: p.references.map(swap) })),
  };
  const counts = new Map(popularity);
  counts.set(leaf.replace(/-1\.0$/, "-1.1"), counts.get(leaf)!);
  counts.delete(leaf);
  return { next, counts, from, to };
}

function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe("planLayers properties", () => {
  it("puts every path in exactly one layer, within budget, keyed by its paths", () => {
    fc.assert(
      fc.property(randomClosure, ({ g, popularity, budget }) => {
        const plan = planLayers(g, { budget, popularity });
        expect(plan.layers.length).toBeLessThanOrEqual(budget);
        expect(plan.layers.flatMap((l) => l.paths).sort()).toEqual(g.paths.map((p) => p.path).sort());
        for (const l of plan.layers) {
          expect(l.paths).toEqual([...l.paths].sort());
          expect(l.key).toBe(layerKey(l.paths));
          expect(l.size).toBe(l.paths.reduce((s, p) => s + g.paths.find((i) => i.path === p)!.narSize, 0));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("orders layers most popular first: each layer is a run of one global order", () => {
    fc.assert(
      fc.property(randomClosure, ({ g, popularity, budget }) => {
        const count = (p: string) => popularity.get(p.slice(p.indexOf("-") + 1)) ?? 0;
        const layers = planLayers(g, { budget, popularity }).layers.map((l) => l.paths.map(count));
        for (let j = 1; j < layers.length; j++) expect(Math.min(...layers[j - 1]!)).toBeGreaterThanOrEqual(Math.max(...layers[j]!));
      }),
      { numRuns: 200 },
    );
  });

  it("a version bump of a leaf package changes only the layer holding it, and moves no layer", () => {
    fc.assert(
      fc.property(randomClosure, fc.integer({ min: 0, max: 1e9 }), ({ g, popularity, budget, leaf }, size) => {
        const old = g.paths.find((p) => p.path === sp(leaf))!.narSize;
        // A size across the lift threshold would rightly move the path to a layer of its own.
        const narSize = (size >= 100 * 2 ** 20) === (old >= 100 * 2 ** 20) ? size : old;
        const { next, counts, from, to } = bumped(g, popularity, leaf, narSize);
        const a = planLayers(g, { budget, popularity }).layers;
        const b = planLayers(next, { budget, popularity: counts }).layers;
        expect(b.map((l) => l.paths)).toEqual(a.map((l) => (l.paths.includes(from) ? l.paths.map((p) => (p === from ? to : p)).sort() : l.paths)));
        a.forEach((l, j) => {
          if (!l.paths.includes(from)) expect(b[j]!.key).toBe(l.key);
        });
      }),
      { numRuns: 300 },
    );
  });

  it("depends only on the graph's content, not its order", () => {
    fc.assert(
      fc.property(randomClosure, ({ g, popularity, budget, seed }) => {
        const shuffled: ClosureGraph = {
          roots: shuffle(g.roots, seed),
          paths: shuffle(g.paths, seed + 1).map((p, i) => ({ ...p, references: shuffle(p.references, seed + i) })),
        };
        expect(planLayers(shuffled, { budget, popularity })).toEqual(planLayers(g, { budget, popularity }));
      }),
      { numRuns: 300 },
    );
  });
});
