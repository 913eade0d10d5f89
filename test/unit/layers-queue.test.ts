import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { RatingHeap } from "../../builder/layers/heap.ts";
import { RatingQueue } from "../../builder/layers/queue.ts";

type Op = { push: [number, number] } | { pop: true };

/** The pops (head and rating) of a queue given the initial heads and then the operations. */
function run(queue: typeof RatingHeap | typeof RatingQueue, ratings: number[], ops: Op[]): [number, number][] {
  const q = queue.from(
    ratings.map((_, head) => head),
    (head) => ratings[head]!,
  );
  const out: [number, number][] = [];
  for (const op of ops) {
    if ("push" in op) q.push(...op.push);
    else out.push([q.pop(), q.lastRating]);
    expect(q.size).toBeGreaterThanOrEqual(0);
  }
  while (q.size > 0) out.push([q.pop(), q.lastRating]);
  out.push([q.pop(), NaN]);
  return out;
}

describe("RatingQueue", () => {
  // Few distinct ratings, so that ties (broken by head) are common; no NaN, which has no order.
  const rating = fc.oneof(fc.constantFrom(0, -0, 1, 2, 2.5, 1e9, Infinity, -3), fc.double({ noNaN: true }));
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ push: fc.tuple(rating, fc.integer({ min: 0, max: 30 })) }),
    fc.constant({ pop: true as const }),
  );

  it("pops the same entries, in the same order, as RatingHeap", () => {
    fc.assert(
      fc.property(fc.array(rating, { maxLength: 40 }), fc.array(op, { maxLength: 120 }), (ratings, ops) => {
        const heap = run(RatingHeap, ratings, ops);
        const queue = run(RatingQueue, ratings, ops);
        expect(queue.map(([head]) => head)).toEqual(heap.map(([head]) => head));
        // Ratings compare with ===: an entry pushed as -0 may come out as an equal 0 one.
        queue.forEach(([, r], i) => expect(r === heap[i]![1] || (Number.isNaN(r) && Number.isNaN(heap[i]![1]))).toBe(true));
      }),
      { numRuns: 500 },
    );
  });

  it("pushes in ascending order go to the run, others to the heap, and all come out in order", () => {
    const q = RatingQueue.from([0, 1, 2], (h) => [5, 1, 3][h]!);
    q.push(2, 7);
    q.push(4, 8);
    q.push(0.5, 9);
    q.push(4, 6);
    expect(Array.from({ length: 7 }, () => q.pop())).toEqual([9, 1, 7, 2, 6, 8, 0]);
    expect(q.pop()).toBe(-1);
  });

  it("wants its initial heads ascending", () => {
    expect(() => RatingQueue.from([2, 1], () => 0)).toThrow(/ascending/);
  });
});
