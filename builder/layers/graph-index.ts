/**
 * A ClosureGraph turned into dense indices. Paths are numbered in sorted order, so
 * everything computed from the index is independent of the order Nix listed them in.
 */
import type { ClosureGraph } from "../nix/graph.ts";
import type { CsrGraph } from "./dominators.ts";
import { sortPaths } from "./fast/sorted-paths.ts";

export interface IndexedClosure {
  /** Store paths, sorted; a path's index is its position here. */
  paths: string[];
  narSize: Float64Array;
  /** References between paths, self-references dropped, each target once. */
  references: CsrGraph;
  /** Indices of the requested roots, sorted and de-duplicated. */
  roots: number[];
  /**
   * `position[i]`: the index of `graph.paths[i]`. Visiting paths in the graph's own order
   * reads their strings in memory order, with far fewer cache misses than sorted order.
   */
  position: Int32Array;
}

export function indexClosure(graph: ClosureGraph): IndexedClosure {
  const sorted = sortPaths(graph.paths.map((p) => p.path));
  if (sorted.hasDuplicates) throw new Error(`a store path appears twice in the closure graph`);
  const { paths, position } = sorted;
  /** The index of `path`, which `from` refers to. */
  const indexOf = (path: string, from: string): number => {
    const index = sorted.indexOf(path);
    if (index < 0) throw new Error(`${from} refers to ${path}, which is not in the closure graph`);
    return index;
  };
  const n = paths.length;
  const narSize = new Float64Array(n);
  // Rows are read in input order (memory order: far fewer cache misses than sorted order)
  // into a scratch buffer, then laid out by index.
  const scratch = new Int32Array(graph.paths.reduce((k, info) => k + info.references.length, 0));
  const rowStart = new Int32Array(n);
  const rowEnd = new Int32Array(n);
  // stamp[w] === v + 1 once v's references include w: de-duplication without a Set per path.
  const stamp = new Int32Array(n);
  let end = 0;
  for (let i = 0; i < n; i++) {
    const info = graph.paths[i]!;
    const v = position[i]!;
    if (!(info.narSize >= 0)) throw new Error(`store path ${info.path} has an invalid narSize`);
    narSize[v] = info.narSize;
    rowStart[v] = end;
    for (const r of info.references) {
      const w = indexOf(r, info.path);
      if (w === v || stamp[w] === v + 1) continue;
      stamp[w] = v + 1;
      scratch[end++] = w;
    }
    rowEnd[v] = end;
  }
  const offsets = new Int32Array(n + 1);
  const targets = new Int32Array(end);
  for (let v = 0, at = 0; v < n; v++) {
    for (let e = rowStart[v]!; e < rowEnd[v]!; e++) targets[at++] = scratch[e]!;
    offsets[v + 1] = at;
    sortRange(targets, offsets[v]!, at);
  }
  // Sorted and de-duplicated by marking rather than with a Set and a sort: a whole package
  // set is tens of thousands of roots.
  const isRoot = new Uint8Array(n);
  for (const r of graph.roots) isRoot[indexOf(r, "the request")] = 1;
  const roots: number[] = [];
  for (let v = 0; v < n; v++) if (isRoot[v]) roots.push(v);
  return {
    paths,
    narSize,
    references: { offsets, targets },
    roots,
    position,
  };
}

/** Insertion sort of a short range: reference lists are small, and subarray().sort() is slow for them. */
function sortRange(a: Int32Array, start: number, end: number): void {
  for (let i = start + 1; i < end; i++) {
    const x = a[i]!;
    let j = i - 1;
    while (j >= start && a[j]! > x) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = x;
  }
}
