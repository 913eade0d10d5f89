/**
 * Layering quality over pairs of images (A, then B): what a client holding A's layers
 * re-downloads for B, what the registry stores for the whole workload, and how many of A's
 * layer keys survive when B is A plus one package.
 */
import type { ClosureGraph } from "../../builder/nix/graph.ts";
import type { BenchLayer, Planner } from "./reference-planners.ts";

export interface ImagePair {
  a: ClosureGraph;
  b: ClosureGraph;
  /** B adds one package to A, or swaps one of A's packages for another. */
  kind: "add" | "swap";
}

export interface Quality {
  /** Bytes of B's layers missing from A's, as a share of B's bytes, over all pairs. */
  redownloadShare: number;
  /** Bytes of all distinct layers of all images in the workload. */
  storedBytes: number;
  /** Share of A's layer keys that B still has, over the "add" pairs. */
  keptKeysShare: number;
  /** Most layers any image got. */
  maxLayers: number;
}

export function measureQuality(planner: Planner, pairs: readonly ImagePair[]): Quality {
  const plans = new Map<ClosureGraph, BenchLayer[]>();
  const plan = (g: ClosureGraph) => plans.get(g) ?? plans.set(g, planner(g)).get(g)!;
  let fetched = 0;
  let total = 0;
  let kept = 0;
  let keys = 0;
  for (const { a, b, kind } of pairs) {
    const have = new Set(plan(a).map((l) => l.key));
    for (const l of plan(b)) {
      total += l.size;
      if (!have.has(l.key)) fetched += l.size;
    }
    if (kind === "add") {
      const after = new Set(plan(b).map((l) => l.key));
      keys += have.size;
      kept += [...have].filter((k) => after.has(k)).length;
    }
  }
  const stored = new Map<string, number>();
  let maxLayers = 0;
  for (const layers of plans.values()) {
    maxLayers = Math.max(maxLayers, layers.length);
    for (const l of layers) stored.set(l.key, l.size);
  }
  return {
    redownloadShare: total > 0 ? fetched / total : 0,
    storedBytes: [...stored.values()].reduce((s, x) => s + x, 0),
    keptKeysShare: keys > 0 ? kept / keys : 1,
    maxLayers,
  };
}
