/**
 * A ClosureGraph turned into dense indices. Paths are numbered in sorted order, so
 * everything computed from the index is independent of the order Nix listed them in.
 */
import type { ClosureGraph } from "../nix/graph.ts";
import type { CsrGraph } from "./dominators.ts";

export interface IndexedClosure {
  /** Store paths, sorted; a path's index is its position here. */
  paths: string[];
  narSize: Float64Array;
  /** References between paths, self-references dropped, each target once. */
  references: CsrGraph;
  /** Indices of the requested roots, sorted and de-duplicated. */
  roots: number[];
}

export function indexClosure(graph: ClosureGraph): IndexedClosure {
  // The default sort compares UTF-16 code units, like compareStrings, without a callback.
  const paths = graph.paths.map((p) => p.path).sort();
  const index = new Map<string, number>();
  paths.forEach((path, i) => index.set(path, i));
  if (index.size !== paths.length) throw new Error(`a store path appears twice in the closure graph`);
  const missing = (path: string, from: string): never => {
    throw new Error(`${from} refers to ${path}, which is not in the closure graph`);
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
  for (const info of graph.paths) {
    const v = index.get(info.path)!;
    if (!(info.narSize >= 0)) throw new Error(`store path ${info.path} has an invalid narSize`);
    narSize[v] = info.narSize;
    rowStart[v] = end;
    for (const r of info.references) {
      const w = index.get(r) ?? missing(r, info.path);
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
  const roots = [...new Set(graph.roots.map((r) => index.get(r) ?? missing(r, "the request")))].sort((a, b) => a - b);
  return {
    paths,
    narSize,
    references: { offsets, targets },
    roots,
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
