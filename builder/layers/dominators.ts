/**
 * Immediate dominators (Cooper, Harvey & Kennedy, "A Simple, Fast Dominance Algorithm",
 * 2001): iterate `idom(v) = intersect(idom of v's processed predecessors)` in reverse
 * postorder until nothing changes. On a DAG — a Nix closure is one, apart from
 * self-references — a single pass settles every node; the depth-first search that orders
 * the nodes also tells whether the graph is one, and then that pass runs forward along the
 * references, without building predecessor lists. Either way the result is the one
 * dominator tree the graph has.
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
  const { order, postIndex, acyclic } = postorder(graph, root);
  // Nodes are renumbered by postorder (the root last) for the iteration, as in the paper:
  // `intersect` then compares the numbers themselves instead of looking them up.
  const m = order.length;
  const doms = new Int32Array(m).fill(-1);
  doms[m - 1] = m - 1;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (a < b) a = doms[a]!;
      while (b < a) b = doms[b]!;
    }
    return a;
  };
  if (acyclic) {
    // Without cycles, every predecessor of a node comes before it in reverse postorder, so
    // one pass settles them all. It runs forward, needing no predecessor lists: each node,
    // once settled, intersects itself into each successor's dominator so far.
    for (let p = m - 1; p >= 0; p--) {
      const v = order[p]!;
      for (let e = graph.offsets[v]!; e < graph.offsets[v + 1]!; e++) {
        const w = postIndex[graph.targets[e]!]!;
        doms[w] = doms[w] === -1 ? p : intersect(p, doms[w]!);
      }
    }
  } else {
    const preds = predecessors(graph, postIndex, m);
    for (let changed = true; changed; ) {
      changed = false;
      // Reverse postorder: every predecessor outside a cycle is settled before its successor.
      for (let v = m - 2; v >= 0; v--) {
        let next = -1;
        for (let e = preds.offsets[v]!; e < preds.offsets[v + 1]!; e++) {
          const p = preds.targets[e]!;
          if (doms[p] === -1) continue;
          next = next === -1 ? p : intersect(p, next);
        }
        if (doms[v] !== next) {
          doms[v] = next;
          changed = true;
        }
      }
    }
  }
  const idom = new Int32Array(n).fill(-1);
  for (let v = 0; v < m; v++) idom[order[v]!] = order[doms[v]!]!;
  return idom;
}

/**
 * Depth-first postorder from `root`, without recursion (closures can be deep chains), and
 * whether the part of the graph it reaches is free of cycles: it is unless some edge leads
 * back to a node still on the stack.
 */
function postorder(graph: CsrGraph, root: number): { order: Int32Array; postIndex: Int32Array; acyclic: boolean } {
  const n = graph.offsets.length - 1;
  const postIndex = new Int32Array(n).fill(-1);
  const seen = new Uint8Array(n);
  const order = new Int32Array(n);
  let done = 0;
  let acyclic = true;
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
      } else if (postIndex[w] === -1) {
        acyclic = false;
      }
    } else {
      postIndex[v] = done;
      order[done++] = v;
      top--;
    }
  }
  return { order: order.subarray(0, done), postIndex, acyclic };
}

/**
 * Predecessor lists of the nodes the root reaches, all numbered by postorder. The graph is
 * read in its own order, front to back, rather than in postorder, which jumps around it;
 * the order of a node's predecessors does not matter.
 */
function predecessors(graph: CsrGraph, postIndex: Int32Array, m: number): CsrGraph {
  const n = graph.offsets.length - 1;
  const offsets = new Int32Array(m + 1);
  for (let v = 0; v < n; v++) {
    if (postIndex[v]! < 0) continue;
    for (let e = graph.offsets[v]!; e < graph.offsets[v + 1]!; e++) {
      const w = postIndex[graph.targets[e]!]!;
      if (w >= 0) offsets[w + 1]!++;
    }
  }
  for (let w = 0; w < m; w++) offsets[w + 1]! += offsets[w]!;
  const fill = offsets.slice(0, m);
  const targets = new Int32Array(offsets[m]!);
  for (let v = 0; v < n; v++) {
    const p = postIndex[v]!;
    if (p < 0) continue;
    for (let e = graph.offsets[v]!; e < graph.offsets[v + 1]!; e++) {
      const w = postIndex[graph.targets[e]!]!;
      if (w >= 0) targets[fill[w]!++] = p;
    }
  }
  return { offsets, targets };
}
