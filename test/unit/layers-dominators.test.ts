import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { csrFromLists, immediateDominators } from "../../builder/layers/dominators.ts";

/** By definition: d dominates v iff v is unreachable from the root once d is removed. */
function naiveIdom(successors: number[][], root: number): number[] {
  const n = successors.length;
  const reach = (removed: number) => {
    const seen = new Set<number>();
    const stack = removed === root ? [] : [root];
    while (stack.length > 0) {
      const v = stack.pop()!;
      if (seen.has(v)) continue;
      seen.add(v);
      for (const w of successors[v]!) if (w !== removed) stack.push(w);
    }
    return seen;
  };
  const reachable = reach(-1);
  const dominators = Array.from({ length: n }, (_, v) => new Set<number>());
  for (let d = 0; d < n; d++) {
    const without = reach(d);
    for (const v of reachable) if (v !== d && !without.has(v)) dominators[v]!.add(d);
  }
  return Array.from({ length: n }, (_, v) => {
    if (v === root) return root;
    if (!reachable.has(v)) return -1;
    // The immediate dominator is the strict dominator with the most dominators of its own.
    let best = -1;
    for (const d of dominators[v]!) if (best === -1 || dominators[d]!.size > dominators[best]!.size) best = d;
    return best;
  });
}

describe("immediateDominators", () => {
  it.each([
    ["diamond", [[1, 2], [3], [3], []], [0, 0, 0, 0]],
    ["chain", [[1], [2], [3], []], [0, 0, 1, 2]],
    ["loop back to the root", [[1], [2], [0, 1]], [0, 0, 1]],
    ["unreachable node", [[1], [], [1]], [0, 0, -1]],
    ["two paths joining late", [[1, 4], [2], [3], [], [3]], [0, 0, 1, 0, 0]],
  ])("%s", (_, successors, expected) => {
    expect(Array.from(immediateDominators(csrFromLists(successors), 0))).toEqual(expected);
  });

  it("matches the definition on random graphs, cycles included", () => {
    const graph = fc.integer({ min: 1, max: 14 }).chain((n) =>
      fc.array(fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: 4 }), { minLength: n, maxLength: n }),
    );
    fc.assert(
      fc.property(graph, (successors) => {
        expect(Array.from(immediateDominators(csrFromLists(successors), 0))).toEqual(naiveIdom(successors, 0));
      }),
      { numRuns: 300 },
    );
  });

  it("matches the definition on random acyclic graphs (the single forward pass)", () => {
    // Node v points only at higher nodes, so there is no cycle; the root is 0.
    const graph = fc.integer({ min: 1, max: 16 }).chain((n) =>
      fc.array(fc.uniqueArray(fc.integer({ min: 1, max: 5 }), { maxLength: 4 }), { minLength: n, maxLength: n }).map((steps) =>
        steps.map((s, v) => s.map((d) => v + d).filter((w) => w < n)),
      ),
    );
    fc.assert(
      fc.property(graph, (successors) => {
        expect(Array.from(immediateDominators(csrFromLists(successors), 0))).toEqual(naiveIdom(successors, 0));
      }),
      { numRuns: 300 },
    );
  });

  it("handles a 50,000-path chain without recursion", () => {
    const n = 50_000;
    const successors = Array.from({ length: n }, (_, v) => (v + 1 < n ? [v + 1] : []));
    const idom = immediateDominators(csrFromLists(successors), 0);
    expect(idom[n - 1]).toBe(n - 2);
    expect(idom[1]).toBe(0);
  });
});
