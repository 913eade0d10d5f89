/**
 * Layer planning: a closure graph → at most `budget` layers, in an order that related images
 * share. Pure: the plan depends only on the graph's content (not its order), the popularity
 * data and the options.
 *
 * 1. Units: a path joins its immediate dominator when the two are exactly as popular — it is
 *    then in no package's closure without it, so the two are always pulled together.
 * 2. One global order of units, the same for every image of a package set: most popular
 *    first (how many of the set's closures hold it), then by the hash of the package name
 *    (so a version bump keeps a unit in its place; see order.ts). Two images agree on the
 *    order of what they share, and what one adds lands where its popularity puts it instead
 *    of shifting everything: clients that reuse layers only after a common prefix (Docker's
 *    ChainIDs) keep the whole prefix up to the first unit that differs.
 * 3. Layers: the ordered units cut into at most `budget` runs by content-defined cuts (see
 *    chunks.ts), so a changed unit changes the layer holding it and no other. Paths of at
 *    least `liftSize` bytes get a layer of their own while the budget allows.
 *
 * What makes this quick for a whole package set (tens of thousands of paths) — radix sorts
 * and a keyed index of store paths — lives under fast/, so that this file reads as the
 * algorithm.
 */
import type { ClosureGraph } from "../nix/graph.ts";
import { storePathName } from "../nix/graph.ts";
import { FORCED, layerStarts, levelOf, nameHash, packageNameEnd, thresholdOf } from "./chunks.ts";
import { immediateDominators } from "./dominators.ts";
import type { CsrGraph } from "./dominators.ts";
import type { IndexedClosure } from "./graph-index.ts";
import { indexClosure } from "./graph-index.ts";
import { Groups } from "./groups.ts";
import { layerKeyOfSorted } from "./key.ts";
import { globalOrder, MAX_COUNT } from "./order.ts";
import { maxPopularity } from "./popularity.ts";
import type { Popularity } from "./popularity.ts";

/** Clients refuse images over 125 layers; this leaves room for the symlink layer and headroom. */
export const DEFAULT_LAYER_BUDGET = 100;
/** Paths at least this big get a layer of their own (re-downloading them hurts most). */
export const DEFAULT_LIFT_SIZE = 100 * 1024 * 1024;

export interface PlanOptions {
  /** Most layers the plan may use, ≥ 1. Default DEFAULT_LAYER_BUDGET. */
  budget?: number;
  /** Store-path name → count; missing names count 0. */
  popularity?: Popularity;
  /** Bytes; default DEFAULT_LIFT_SIZE. */
  liftSize?: number;
}

export interface PlannedLayer {
  /** layerKey(paths): the layer cache key. */
  key: string;
  /** Store paths in the layer, sorted. */
  paths: string[];
  /** Sum of the paths' narSize. */
  size: number;
  /** Popularity of the layer's most popular unit: layers come most popular first. */
  popularity: number;
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
  const { names, pop } = namesAndPopularity(graph, closure, options.popularity);
  const liftSize = options.liftSize ?? DEFAULT_LIFT_SIZE;
  const lifted = new Uint8Array(n);
  for (let v = 0; v < n; v++) lifted[v] = closure.narSize[v]! >= liftSize ? 1 : 0;
  const units = coOccurringUnits(closure, pop, lifted);
  const heads = units.heads();
  const hashes = new Uint32Array(n);
  for (const u of heads) hashes[u] = nameHash(names[u]!, packageNameEnd(names[u]!));
  const order = globalOrder(heads, pop, hashes, names);
  const levels = Uint8Array.from(order, (u) => levelOf(hashes[u]!));
  const max = countOf(maxPopularity(options.popularity ?? new Map()));
  const thresholds = Uint8Array.from(order, (u) => thresholdOf(pop[u]!, max));
  // A big path starts a layer, and so does whatever follows it.
  order.forEach((u, i) => {
    if (!lifted[u]) return;
    levels[i]! += FORCED;
    if (i + 1 < levels.length && !lifted[order[i + 1]!]) levels[i + 1]! += FORCED;
  });
  const starts = layerStarts(levels, thresholds, budget);
  // Each unit's layer, then each path's, in ascending order: the paths come out sorted.
  const layerOfUnit = new Int32Array(n);
  starts.forEach((start, j) => {
    for (let i = start; i < (starts[j + 1] ?? order.length); i++) layerOfUnit[order[i]!] = j;
  });
  const members = starts.map(() => [] as number[]);
  for (let v = 0; v < n; v++) members[layerOfUnit[units.find(v)]!]!.push(v);
  const layers = members.map((vs, j): PlannedLayer => {
    const paths = vs.map((v) => closure.paths[v]!);
    let size = 0;
    for (const v of vs) size += closure.narSize[v]!;
    return { key: layerKeyOfSorted(paths), paths, size, popularity: pop[order[starts[j]!]!]! };
  });
  return { layers };
}

/** A popularity count as the planner uses it: a whole number in 0..MAX_COUNT (anything else counts 0). */
function countOf(count: number | undefined): number {
  return count !== undefined && count >= 0 ? Math.min(Math.floor(count), MAX_COUNT) : 0;
}

/** Each path's store-path name and popularity count, by index. */
function namesAndPopularity(graph: ClosureGraph, closure: IndexedClosure, popularity: Popularity | undefined) {
  const names = new Array<string>(closure.paths.length);
  const pop = new Float64Array(closure.paths.length);
  // In the graph's order, which is the order of the strings in memory.
  for (let i = 0; i < names.length; i++) {
    const v = closure.position[i]!;
    names[v] = storePathName(graph.paths[i]!.path);
    if (popularity?.size) pop[v] = countOf(popularity.get(names[v]!));
  }
  return { names, pop };
}

/** Paths merged into their immediate dominator where the two are equally popular (and known). */
function coOccurringUnits(closure: IndexedClosure, pop: Float64Array, lifted: Uint8Array): Groups {
  const n = closure.paths.length;
  const idom = immediateDominators(withSyntheticRoot(closure, lifted), n);
  const units = new Groups(n);
  for (let v = 0; v < n; v++) {
    const d = idom[v]!;
    // d < 0: only a reference cycle (which Nix forbids) leaves a path unreached.
    if (d < 0 || d === n || lifted[v] || !(pop[v]! > 0) || pop[d] !== pop[v]) continue;
    units.merge(v, units.find(d));
  }
  return units;
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
