/**
 * Grouping paths into at most `budget` layers. What matters beyond the budget is that the
 * groups come out the same in different images, so that pulling image B after image A
 * re-uses A's layers: a merged layer changes as soon as any of its members is missing or
 * extra, which is why Nixery's catch-all layer is re-downloaded with almost every image.
 *
 * 1. Co-occurrence, always: a path whose dominator is exactly as popular as the path itself
 *    is in no closure without it (the dominator's closures are a subset of the path's), so
 *    the two are always pulled together and sharing a layer costs nothing.
 * 2. Popularity bands, always: paths that most closures hold are in nearly every image, so
 *    one layer per band is as stable as one layer per path, and far fewer layers.
 * 3. Budget: while there are too many groups, the cheapest group joins its dominator's
 *    group. Cheapest = (popularity + 1) × (its size + the size of the group it joins): the
 *    bytes a client re-fetches if another image does not make the same merge, weighted by
 *    how often the group is pulled. Ratings are re-evaluated as groups grow.
 * 4. Only if every remaining group hangs off the synthetic root (roots, lifted paths) are
 *    the two lowest-rated groups merged with each other, until within budget.
 */
import { Groups } from "./groups.ts";
import { RatingHeap } from "./heap.ts";
import { RatingQueue } from "./queue.ts";

export interface MergeInput {
  /** Immediate dominator of each path (index < root); `root` is the synthetic root. */
  idom: Int32Array;
  root: number;
  size: Float64Array;
  popularity: Float64Array;
  /** Popularity band of each path, or -1; lifted paths never join a dominator's group. */
  band: Int32Array;
  lifted: Uint8Array;
  budget: number;
}

export function mergeGroups(input: MergeInput): Groups {
  const groups = new Groups(input.size, input.popularity);
  const queue = input.root >= QUEUE_FROM && ratingsCannotBeNaN(input) ? RatingQueue : RatingHeap;
  mergeCoOccurring(groups, input);
  mergeBands(groups, input.band);
  mergeAlongDominators(groups, input, queue);
  mergeRemaining(groups, input.budget, queue);
  return groups;
}

/** What the merge loops need of a priority queue: RatingHeap, or the faster RatingQueue. */
type Queue = typeof RatingHeap | typeof RatingQueue;

/**
 * Paths from which on RatingQueue is worth it. Below, RatingHeap is as quick, and it needs
 * less warming up by the JIT (a single image's few hundred paths are planned before that).
 */
const QUEUE_FROM = 4096;

/**
 * Whether every rating is a number: so with sizes ≥ 0 and popularity counts finite and
 * ≥ 0 — as valid data always has them. Then (rating, head) is a total order, and
 * RatingQueue pops the same sequence as RatingHeap, faster; a NaN rating (a count of
 * Infinity times a size of 0, say) keeps RatingHeap and its exact behaviour.
 */
function ratingsCannotBeNaN({ size, popularity }: MergeInput): boolean {
  for (let v = 0; v < size.length; v++) if (!(size[v]! >= 0 && popularity[v]! >= 0 && popularity[v]! < Infinity)) return false;
  return true;
}

function mergeCoOccurring(groups: Groups, { idom, root, popularity, lifted }: MergeInput): void {
  for (let v = 0; v < root; v++) {
    const d = idom[v]!;
    if (d === root || lifted[v] || !(popularity[v]! > 0) || popularity[d] !== popularity[v]) continue;
    groups.merge(v, groups.find(d));
  }
}

function mergeBands(groups: Groups, band: Int32Array): void {
  const heads = new Map<number, number>();
  for (let v = 0; v < band.length; v++) {
    const b = band[v]!;
    if (b < 0 || !groups.isHead(v)) continue;
    const head = heads.get(b);
    if (head === undefined) heads.set(b, v);
    else groups.merge(v, head);
  }
}

function mergeAlongDominators(groups: Groups, { idom, root, lifted, budget }: MergeInput, queue: Queue): void {
  if (groups.count <= budget) return;
  const mergeable = (g: number) => idom[g] !== root && !lifted[g];
  const rating = (g: number) => (groups.popularity[g]! + 1) * (groups.size[g]! + groups.size[groups.find(idom[g]!)]!);
  const heads: number[] = [];
  for (let v = 0; v < root; v++) if (groups.isHead(v) && mergeable(v)) heads.push(v);
  const heap = queue.from(heads, rating);
  while (groups.count > budget && heap.size > 0) {
    const head = heap.pop();
    if (!groups.isHead(head)) continue;
    // Ratings only grow as groups grow: a stale entry is re-queued with its current rating.
    const now = rating(head);
    if (now !== heap.lastRating) {
      heap.push(now, head);
      continue;
    }
    const into = groups.find(idom[head]!);
    groups.merge(head, into);
    if (mergeable(into)) heap.push(rating(into), into);
  }
}

function mergeRemaining(groups: Groups, budget: number, queue: Queue): void {
  if (groups.count <= budget) return;
  const heads: number[] = [];
  for (let v = 0; v < groups.size.length; v++) if (groups.isHead(v)) heads.push(v);
  const heap = queue.from(heads, (g) => groups.rating(g));
  while (groups.count > budget) {
    const a = heap.pop();
    const b = heap.pop();
    const [head, other] = a < b ? [a, b] : [b, a];
    groups.merge(other, head);
    heap.push(groups.rating(head), head);
  }
}
