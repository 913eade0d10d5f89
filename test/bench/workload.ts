/** Image pairs for the layering-quality measures, drawn from a package set. */
import { popularityFromClosures } from "../../builder/layers/popularity.ts";
import type { Popularity } from "../../builder/layers/popularity.ts";
import type { ImagePair } from "./layer-quality.ts";
import { prng } from "../support/prng.ts";
import { closureGraph, syntheticPackageSet } from "./synthetic.ts";
import type { PackageSet } from "./synthetic.ts";

export interface Workload {
  name: string;
  pairs: ImagePair[];
  popularity: Popularity;
}

/**
 * A is 4–5 applications; B adds one (every other pair) or swaps A's last one for another.
 * Popularity is computed the way the popularity command does, from every package's closure.
 */
export function workloadFromSet(name: string, set: PackageSet, pairsPerKind: number, seed: number): Workload {
  const popularity = popularityFromClosures(set.packages.map((p) => closureGraph(set, [p]).paths.map((i) => i.path)));
  const rand = prng(seed);
  const apps = set.packages.slice(set.firstApp);
  const pick = (exclude: string[]) => {
    for (;;) {
      const p = apps[Math.floor(rand() * apps.length)]!;
      if (!exclude.includes(p)) return p;
    }
  };
  const pairs: ImagePair[] = [];
  for (let i = 0; i < 2 * pairsPerKind; i++) {
    const roots: string[] = [];
    for (let n = 4 + Math.floor(rand() * 2); roots.length < n; ) roots.push(pick(roots));
    const kind = i % 2 === 0 ? "add" : "swap";
    const next = kind === "add" ? [...roots, pick(roots)] : [...roots.slice(0, -1), pick(roots)];
    pairs.push({ a: closureGraph(set, roots), b: closureGraph(set, next), kind });
  }
  return { name, pairs, popularity };
}

/** Synthetic package sets (seeds 1–3) of `packages` packages, `pairsPerKind` add and swap pairs each. */
export function syntheticWorkloads(packages: number, pairsPerKind: number): Workload[] {
  return [1, 2, 3].map((seed) => workloadFromSet(`synthetic-${seed}`, syntheticPackageSet({ packages, seed }), pairsPerKind, seed + 100));
}
