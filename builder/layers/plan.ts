/**
 * Layer planning: a closure graph → at most `budget` layers, ordered so that images which
 * share their most common layers share a long ChainID prefix. Pure: the plan depends only
 * on the graph's content (not its order), the popularity data and the options.
 */
import type { ClosureGraph } from "../nix/graph.ts";
import { storePathName } from "../nix/graph.ts";
import { immediateDominators } from "./dominators.ts";
import type { CsrGraph } from "./dominators.ts";
import type { IndexedClosure } from "./graph-index.ts";
import { indexClosure } from "./graph-index.ts";
import { compareStrings, layerKeyOfSorted } from "./key.ts";
import { maxPopularity } from "./popularity.ts";
import type { Popularity } from "./popularity.ts";
import { mergeGroups } from "./merge.ts";

/** Clients refuse images over 125 layers; this leaves room for the symlink layer and headroom. */
export const DEFAULT_LAYER_BUDGET = 100;
/** Paths at least this big get a layer of their own (re-downloading them hurts most). */
export const DEFAULT_LIFT_SIZE = 100 * 1024 * 1024;
/**
 * Popularity bands, as shares of the data's largest count: a path at least this popular is
 * lifted out of the dominator tree and shares a layer with the other paths of its band.
 */
export const POPULARITY_BANDS: readonly number[] = [0.9, 0.7, 0.5];

export interface PlanOptions {
  /** Most layers the plan may use, ≥ 1. Default DEFAULT_LAYER_BUDGET. */
  budget?: number;
  /** Store-path name → count; missing names count 0. */
  popularity?: Popularity;
  /** Bytes; default DEFAULT_LIFT_SIZE. */
  liftSize?: number;
  /** Shares of the largest count that start a popularity band, descending; default POPULARITY_BANDS. */
  bands?: readonly number[];
}

export interface PlannedLayer {
  /** layerKey(paths): the layer cache key. */
  key: string;
  /** Store paths in the layer, sorted. */
  paths: string[];
  /** Sum of the paths' narSize. */
  size: number;
  /** (popularity of its least popular path + 1) × size. Layers are ordered by it, highest first. */
  rating: number;
}

export interface LayerPlan {
  layers: PlannedLayer[];
}

export function planLayers(graph: ClosureGraph, options: PlanOptions = {}): LayerPlan {
  const budget = options.budget ?? DEFAULT_LAYER_BUDGET;
  if (!Number.isInteger(budget) || budget < 1) throw new Error(`layer budget must be a positive integer, got ${budget}`);
  const closure = indexClosure(graph);
  const n = closure.paths.length;
  if (n === 0) return { layers: [] };
  const popularity = options.popularity ?? new Map<string, number>();
  const pop = new Float64Array(n);
  // In the graph's order, which is the order of the strings in memory.
  if (popularity.size > 0) {
    for (let i = 0; i < n; i++) pop[closure.position[i]!] = popularity.get(storePathName(graph.paths[i]!.path)) ?? 0;
  }
  const { band, lifted } = liftedPaths(closure.narSize, pop, options, popularity);
  const idom = immediateDominators(withSyntheticRoot(closure, lifted), n);
  // Only a reference cycle (which Nix forbids) could leave a path unreached: hang it off the root.
  for (let v = 0; v < n; v++) if (idom[v]! < 0) idom[v] = n;
  const groups = mergeGroups({ idom, root: n, size: closure.narSize, popularity: pop, band, lifted, budget });
  const layers: PlannedLayer[] = [];
  for (const [head, members] of groups.members()) {
    // Members ascend, so their paths are sorted.
    const paths = members.map((v) => closure.paths[v]!);
    layers.push({ key: layerKeyOfSorted(paths), paths, size: groups.size[head]!, rating: groups.rating(head) });
  }
  layers.sort((a, b) => b.rating - a.rating || compareStrings(a.paths[0]!, b.paths[0]!));
  return { layers };
}

/** Large paths and popular ones (by band) are lifted: no other path's dominator absorbs them. */
function liftedPaths(narSize: Float64Array, pop: Float64Array, options: PlanOptions, popularity: Popularity) {
  const liftSize = options.liftSize ?? DEFAULT_LIFT_SIZE;
  const max = maxPopularity(popularity);
  const edges = (options.bands ?? POPULARITY_BANDS).map((share) => Math.max(1, share * max));
  const band = new Int32Array(narSize.length).fill(-1);
  const lifted = new Uint8Array(narSize.length);
  narSize.forEach((size, v) => {
    if (size >= liftSize) lifted[v] = 1;
    else band[v] = edges.findIndex((edge) => pop[v]! >= edge);
    if (band[v]! >= 0) lifted[v] = 1;
  });
  return { band, lifted };
}

/**
 * The reference graph plus a synthetic root (index n) pointing at the requested roots, the
 * lifted paths (so nothing else dominates them) and any path nothing refers to (so a graph
 * with stray paths still reaches everything).
 */
function withSyntheticRoot(closure: IndexedClosure, lifted: Uint8Array): CsrGraph {
  const n = closure.paths.length;
  const { offsets, targets } = closure.references;
  const referred = new Uint8Array(n);
  for (let e = 0; e < targets.length; e++) referred[targets[e]!] = 1;
  const rootEdges: number[] = [];
  const isRoot = new Uint8Array(n);
  for (const r of closure.roots) isRoot[r] = 1;
  for (let v = 0; v < n; v++) if (isRoot[v] || lifted[v] || !referred[v]) rootEdges.push(v);
  const allOffsets = new Int32Array(n + 2);
  allOffsets.set(offsets);
  allOffsets[n + 1] = offsets[n]! + rootEdges.length;
  const allTargets = new Int32Array(allOffsets[n + 1]!);
  allTargets.set(targets);
  allTargets.set(rootEdges, offsets[n]!);
  return { offsets: allOffsets, targets: allTargets };
}
