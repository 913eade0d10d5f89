/**
 * Immediate dominators (Cooper, Harvey & Kennedy, "A Simple, Fast Dominance Algorithm",
 * 2001): iterate `idom(v) = intersect(idom of v's processed predecessors)` in reverse
 * postorder until nothing changes. On a DAG — a Nix closure is one, apart from
 * self-references — a single pass settles every node and a second confirms it, so the
 * cost is linear in the number of references.
 */

/** A directed graph over nodes 0..n-1 as compressed sparse rows. */
export interface CsrGraph {
  /** Node v's successors are `targets[offsets[v] .. offsets[v + 1])`; length n + 1. */
  offsets: Int32Array;
  targets: Int32Array;
}

/** Builds a CsrGraph from successor lists. */
export function csrFromLists(successors: readonly (readonly number[])[]): CsrGraph {
  const offsets = new Int32Array(successors.length + 1);
  successors.forEach((s, v) => (offsets[v + 1] = offsets[v]! + s.length));
  const targets = new Int32Array(offsets[successors.length]!);
  successors.forEach((s, v) => targets.set(s, offsets[v]!));
  return { offsets, targets };
}

/**
 * `idom[v]` for every node: its immediate dominator, `root` for the root itself, and -1
 * for nodes that `root` does not reach.
 */
export function immediateDominators(graph: CsrGraph, root: number): Int32Array {
  const n = graph.offsets.length - 1;
  const { order, postIndex } = postorder(graph, root);
  const preds = reverse(graph, postIndex);
  const idom = new Int32Array(n).fill(-1);
  idom[root] = root;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (postIndex[a]! < postIndex[b]!) a = idom[a]!;
      while (postIndex[b]! < postIndex[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    // Reverse postorder: every predecessor outside a cycle is settled before its successor.
    for (let i = order.length - 2; i >= 0; i--) {
      const v = order[i]!;
      let next = -1;
      for (let e = preds.offsets[v]!; e < preds.offsets[v + 1]!; e++) {
        const p = preds.targets[e]!;
        if (idom[p] === -1) continue;
        next = next === -1 ? p : intersect(p, next);
      }
      if (idom[v] !== next) {
        idom[v] = next;
        changed = true;
      }
    }
  }
  return idom;
}

/** Depth-first postorder from `root`, without recursion (closures can be deep chains). */
function postorder(graph: CsrGraph, root: number): { order: Int32Array; postIndex: Int32Array } {
  const n = graph.offsets.length - 1;
  const postIndex = new Int32Array(n).fill(-1);
  const seen = new Uint8Array(n);
  const order: number[] = [];
  const stack = new Int32Array(n);
  const cursor = new Int32Array(n);
  let top = 0;
  stack[0] = root;
  cursor[0] = graph.offsets[root]!;
  seen[root] = 1;
  while (top >= 0) {
    const v = stack[top]!;
    const e = cursor[top]!;
    if (e < graph.offsets[v + 1]!) {
      cursor[top] = e + 1;
      const w = graph.targets[e]!;
      if (!seen[w]) {
        seen[w] = 1;
        top++;
        stack[top] = w;
        cursor[top] = graph.offsets[w]!;
      }
    } else {
      postIndex[v] = order.length;
      order.push(v);
      top--;
    }
  }
  return { order: Int32Array.from(order), postIndex };
}

/** Predecessor lists, keeping only edges between nodes the root reaches. */
function reverse(graph: CsrGraph, postIndex: Int32Array): CsrGraph {
  const n = graph.offsets.length - 1;
  const offsets = new Int32Array(n + 1);
  const reached = (v: number) => postIndex[v]! >= 0;
  for (let v = 0; v < n; v++) {
    if (!reached(v)) continue;
    for (let e = graph.offsets[v]!; e < graph.offsets[v + 1]!; e++) {
      const w = graph.targets[e]!;
      if (reached(w)) offsets[w + 1]!++;
    }
  }
  for (let v = 0; v < n; v++) offsets[v + 1]! += offsets[v]!;
  const fill = offsets.slice(0, n);
  const targets = new Int32Array(offsets[n]!);
  for (let v = 0; v < n; v++) {
    if (!reached(v)) continue;
    for (let e = graph.offsets[v]!; e < graph.offsets[v + 1]!; e++) {
      const w = graph.targets[e]!;
      if (reached(w)) targets[fill[w]!++] = v;
    }
  }
  return { offsets, targets };
}
