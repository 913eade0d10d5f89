/** Image pairs for the layering-quality measures, drawn from a package set. */
import { popularityFromClosures } from "../../builder/layers/popularity.ts";
import type { Popularity } from "../../builder/layers/popularity.ts";
import type { ClosureGraph, StorePathInfo } from "../../builder/nix/graph.ts";
import type { ImagePair, PairKind } from "./layer-quality.ts";
import { prng } from "../support/prng.ts";
import { bumped, leafPackages } from "./shapes.ts";
import type { ShapedSet } from "./shapes.ts";

export interface Workload {
  name: string;
  pairs: ImagePair[];
  /** Counted the way the builder derives it: over every package's closure in the set. */
  popularity: Popularity;
  /** Counted over the images a registry serves (A and B of every pair), like a usage log. */
  usage: Popularity;
}

export const PAIR_KINDS: readonly PairKind[] = ["swap", "add", "add_language", "bump"];

/**
 * A is 4–5 apps; B swaps A's last app for another, adds an app, adds a language package, or
 * is A at the next revision of the set where one of A's leaf apps got a new version.
 */
export function workloadFromSet(name: string, set: ShapedSet, pairsPerKind: number, seed: number): Workload {
  const rand = prng(seed);
  const pickFrom = (list: readonly string[], exclude: readonly string[]) => {
    for (let tries = 0; ; tries++) {
      const p = list[Math.floor(rand() * list.length)]!;
      if (!exclude.includes(p) || tries > 1000) return p;
    }
  };
  const leaves = leafPackages(set);
  const leafApps = set.apps.filter((p) => leaves.has(p));
  const pairs: ImagePair[] = [];
  const revisions: ShapedSet[] = [set];
  for (let i = 0; i < pairsPerKind * PAIR_KINDS.length; i++) {
    const kind = PAIR_KINDS[i % PAIR_KINDS.length]!;
    const roots: string[] = [];
    if (kind === "bump") roots.push(pickFrom(leafApps, []));
    for (let n = 4 + Math.floor(rand() * 2); roots.length < n; ) roots.push(pickFrom(set.apps, roots));
    if (kind === "bump") {
      const next = bumped(set, roots[0]!, seed + i);
      revisions.push(next.set);
      pairs.push({ a: closureGraph(set, roots), b: closureGraph(next.set, [next.main, ...roots.slice(1)]), kind });
      continue;
    }
    const b =
      kind === "swap" ? [...roots.slice(0, -1), pickFrom(set.apps, roots)]
      : kind === "add" ? [...roots, pickFrom(set.apps, roots)]
      : [...roots, pickFrom(set.language.length > 0 ? set.language : set.apps, roots)];
    pairs.push({ a: closureGraph(set, roots), b: closureGraph(set, b), kind });
  }
  // Each revision's own counts; a bumped package's new name only occurs in its revision.
  const popularity = new Map<string, number>();
  for (const r of revisions) for (const [n, c] of setPopularity(r)) popularity.set(n, Math.max(c, popularity.get(n) ?? 0));
  const usage = popularityFromClosures(pairs.flatMap((p) => [p.a, p.b]).map((g) => g.paths.map((i) => i.path)));
  return { name, pairs, popularity, usage };
}

const setPopularityCache = new WeakMap<Map<string, StorePathInfo>, Popularity>();

/** How many of the set's packages' closures hold each name. */
function setPopularity(set: ShapedSet): Popularity {
  const cached = setPopularityCache.get(set.infos);
  if (cached) return cached;
  const closures = closuresOfAll(set);
  const pop = popularityFromClosures(closures);
  setPopularityCache.set(set.infos, pop);
  return pop;
}

/** Every package's closure, sharing the work: a package's closure is itself plus its references'. */
function closuresOfAll(set: ShapedSet): Set<string>[] {
  const memo = new Map<string, Set<string>>();
  const closureOf = (path: string): Set<string> => {
    const known = memo.get(path);
    if (known) return known;
    const out = new Set<string>([path]);
    memo.set(path, out);
    for (const r of set.infos.get(path)!.references) if (r !== path) for (const p of closureOf(r)) out.add(p);
    return out;
  };
  return set.packages.map(closureOf);
}

/** The closure of some store paths, as the graph Nix would report for them. */
export function closureGraph(set: { infos: Map<string, StorePathInfo> }, roots: readonly string[]): ClosureGraph {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    stack.push(...set.infos.get(p)!.references);
  }
  const paths = [...seen].map((p) => set.infos.get(p)!);
  return { roots: [...roots], paths };
}
