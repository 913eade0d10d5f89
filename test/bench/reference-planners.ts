/**
 * Reference layer planners the benchmark compares nixport's planner with. They model the
 * behaviour of other tools closely enough to measure; none is used by the registry.
 */
import type { ClosureGraph } from "../../builder/nix/graph.ts";
import { storePathName } from "../../builder/nix/graph.ts";
import { immediateDominators } from "../../builder/layers/dominators.ts";
import { indexClosure } from "../../builder/layers/graph-index.ts";
import { compareStrings, layerKey } from "../../builder/layers/key.ts";
import type { Popularity } from "../../builder/layers/popularity.ts";

/** What the quality measures need of a layer. */
export interface BenchLayer {
  key: string;
  size: number;
}

export type Planner = (graph: ClosureGraph) => BenchLayer[];

function layer(paths: string[], sizeOf: Map<string, number>): BenchLayer {
  return { key: layerKey(paths), size: paths.reduce((s, p) => s + sizeOf.get(p)!, 0) };
}

function sizes(graph: ClosureGraph): Map<string, number> {
  return new Map(graph.paths.map((p) => [p.path, p.narSize]));
}

/** Everything in one layer. */
export const singleLayer: Planner = (graph) => [layer(graph.paths.map((p) => p.path), sizes(graph))];

/**
 * The ideal static order: one path per layer, no budget, sorted by package-set-wide
 * popularity, most popular first (ties by name, then path). The floor for digest
 * re-downloads and stored bytes, and a near-floor for ChainID re-downloads.
 */
export function idealStaticOrder(popularity: Popularity): Planner {
  return (graph) => {
    const pop = (p: string) => popularity.get(storePathName(p)) ?? 0;
    const order = graph.paths.map((p) => p.path).sort((a, b) => pop(b) - pop(a) || compareStrings(storePathName(a), storePathName(b)) || compareStrings(a, b));
    const sizeOf = sizes(graph);
    return order.map((p) => layer([p], sizeOf));
  };
}

/** nixpkgs buildLayeredImage (popularity contest): the most popular paths one per layer, the rest in one. */
export function nixpkgsStyle(popularity: Popularity, budget = 100): Planner {
  return (graph) => {
    const pop = (p: string) => popularity.get(storePathName(p)) ?? 0;
    const order = graph.paths.map((p) => p.path).sort((a, b) => pop(b) - pop(a) || compareStrings(a, b));
    const sizeOf = sizes(graph);
    const own = order.slice(0, budget - 1).map((p) => layer([p], sizeOf));
    const rest = order.slice(budget - 1);
    return rest.length > 0 ? [...own, layer(rest, sizeOf)] : own;
  };
}

/**
 * Nixery (2019–2025): dominator tree from a root pointing at the requested paths and at
 * big (closure > 100 MB) or popular (≥ 100) paths; one group per child of the root, rated
 * popularity of its top × the sum of its members' closure sizes (which double-counts); merge the first two of the ascending list into one
 * without re-sorting, until within budget — which grows one catch-all layer.
 */
export function nixeryStyle(popularity: Popularity, budget = 94): Planner {
  return (graph) => {
    const c = indexClosure(graph);
    const n = c.paths.length;
    const pop = c.paths.map((p) => popularity.get(storePathName(p)) ?? 0);
    const closureSize = closureSizes(c.references.offsets, c.references.targets, c.narSize);
    const isRoot = new Set(c.roots);
    const rootEdges = c.paths.map((_, v) => v).filter((v) => isRoot.has(v) || closureSize[v]! > 100e6 || pop[v]! >= 100);
    const offsets = Int32Array.from([...c.references.offsets, c.references.targets.length + rootEdges.length]);
    const targets = Int32Array.from([...c.references.targets, ...rootEdges]);
    const idom = immediateDominators({ offsets, targets }, n);
    const top = (v: number): number => (idom[v] === n ? v : top(idom[v]!));
    const members = new Map<number, number[]>();
    for (let v = 0; v < n; v++) {
      const t = top(v);
      members.set(t, [...(members.get(t) ?? []), v]);
    }
    let groups = [...members].map(([t, vs]) => ({
      paths: vs.map((v) => c.paths[v]!),
      rating: pop[t]! * vs.reduce((s, v) => s + closureSize[v]!, 0),
    }));
    groups.sort((a, b) => a.rating - b.rating || compareStrings(a.paths[0]!, b.paths[0]!));
    while (groups.length > budget) {
      const [a, b] = [groups[0]!, groups[1]!];
      groups = [{ paths: [...a.paths, ...b.paths], rating: a.rating + b.rating }, ...groups.slice(2)];
    }
    const sizeOf = sizes(graph);
    return groups.map((g) => layer(g.paths, sizeOf));
  };
}

/** Nix's closureSize of every path (sum of narSize over everything it reaches). */
function closureSizes(offsets: Int32Array, targets: Int32Array, narSize: Float64Array): number[] {
  return Array.from(narSize, (_, v) => {
    const seen = new Set([v]);
    const stack = [v];
    let total = 0;
    while (stack.length > 0) {
      const u = stack.pop()!;
      total += narSize[u]!;
      for (let e = offsets[u]!; e < offsets[u + 1]!; e++) {
        const w = targets[e]!;
        if (!seen.has(w)) {
          seen.add(w);
          stack.push(w);
        }
      }
    }
    return total;
  });
}
