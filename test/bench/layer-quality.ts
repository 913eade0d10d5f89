/**
 * Layering quality over pairs of images (A, then B): what a client holding A re-downloads
 * for B, counted the two ways clients reuse layers, and what the registry stores.
 *
 * - By digest (containerd, podman): B's layers whose key A does not have.
 * - By ChainID (Docker's classic overlay2 store): a layer is reused only when every layer
 *   before it matches too, so everything from the first position where B's layer list
 *   differs from A's is fetched.
 */
import type { ClosureGraph } from "../../builder/nix/graph.ts";
import type { BenchLayer, Planner } from "./reference-planners.ts";

export type PairKind = "swap" | "add" | "add_language" | "bump";

export interface ImagePair {
  a: ClosureGraph;
  b: ClosureGraph;
  kind: PairKind;
}

export interface Quality {
  /** Bytes of B's layers missing from A's, as a share of B's bytes, over all pairs. */
  digestShare: number;
  /** Bytes of B from the first layer that differs from A's at the same position, as a share. */
  chainIdShare: number;
  /** Bytes of all distinct layers of all images in the workload. */
  storedBytes: number;
  /** Most layers any image got. */
  maxLayers: number;
}

export function measureQuality(planner: Planner, pairs: readonly ImagePair[]): Quality {
  const plans = new Map<ClosureGraph, BenchLayer[]>();
  const plan = (g: ClosureGraph) => plans.get(g) ?? plans.set(g, planner(g)).get(g)!;
  let byDigest = 0;
  let byChainId = 0;
  let total = 0;
  for (const { a, b } of pairs) {
    const [la, lb] = [plan(a), plan(b)];
    const have = new Set(la.map((l) => l.key));
    let prefix = 0;
    while (prefix < la.length && prefix < lb.length && la[prefix]!.key === lb[prefix]!.key) prefix++;
    lb.forEach((l, i) => {
      total += l.size;
      if (!have.has(l.key)) byDigest += l.size;
      if (i >= prefix) byChainId += l.size;
    });
  }
  const stored = new Map<string, number>();
  let maxLayers = 0;
  for (const layers of plans.values()) {
    maxLayers = Math.max(maxLayers, layers.length);
    for (const l of layers) stored.set(l.key, l.size);
  }
  const share = (x: number) => (total > 0 ? x / total : 0);
  return {
    digestShare: share(byDigest),
    chainIdShare: share(byChainId),
    storedBytes: [...stored.values()].reduce((s, x) => s + x, 0),
    maxLayers,
  };
}
