/**
 * A priority queue of (rating, head) entries with RatingHeap's contract — pop() returns the
 * head of the least entry by rating, then head, and sets lastRating — built for the merge
 * loops, where most entries are known at the start and later pushes mostly arrive in
 * ascending order (a merged group's rating tends to grow with the merges):
 *
 * - the initial entries, sorted once by a radix sort;
 * - a run of pushed entries, first in first out, for as long as each push sorts at or
 *   after the run's last entry;
 * - a RatingHeap for the other pushes.
 *
 * pop() takes the least of the three fronts: a comparison or two instead of a walk down a
 * heap of tens of thousands of entries.
 *
 * With no NaN among the ratings, (rating, head) orders entries totally (equal pairs are
 * indistinguishable), so this queue pops the very sequence a RatingHeap given the same
 * pushes would. A NaN compares false with everything, and where it lands in a heap depends
 * on the heap's shape: callers keep RatingHeap for ratings that can be NaN.
 */
import { doubled, RatingHeap, sortsBefore as before } from "./heap.ts";
import { radixOrderOfDoubles } from "./radix.ts";

export class RatingQueue {
  /** The initial entries, sorted; `next` is the first not yet popped. */
  private readonly sortedRatings: Float64Array;
  private readonly sortedHeads: Int32Array;
  private next = 0;
  /** The run: entries runStart .. runEnd - 1, ascending. */
  private runRatings = new Float64Array(64);
  private runHeads = new Int32Array(64);
  private runStart = 0;
  private runEnd = 0;
  private readonly rest = new RatingHeap();
  size: number;
  /** Rating of the entry the last pop() returned. */
  lastRating = 0;

  private constructor(ratings: Float64Array, heads: Int32Array) {
    this.sortedRatings = ratings;
    this.sortedHeads = heads;
    this.size = heads.length;
  }

  /** A queue of `heads` (ascending) with their ratings (none NaN). */
  static from(heads: readonly number[], rating: (head: number) => number): RatingQueue {
    const ratings = new Float64Array(heads.length);
    for (let i = 0; i < heads.length; i++) {
      if (i > 0 && !(heads[i - 1]! < heads[i]!)) throw new Error("RatingQueue.from needs ascending heads");
      ratings[i] = rating(heads[i]!);
    }
    // The sort keeps heads with equal ratings in their (ascending) order.
    const order = radixOrderOfDoubles(ratings);
    const sortedRatings = new Float64Array(heads.length);
    const sortedHeads = new Int32Array(heads.length);
    for (let j = 0; j < order.length; j++) {
      sortedRatings[j] = ratings[order[j]!]!;
      sortedHeads[j] = heads[order[j]!]!;
    }
    return new RatingQueue(sortedRatings, sortedHeads);
  }

  push(rating: number, head: number): void {
    this.size++;
    if (this.runStart === this.runEnd) {
      this.runStart = this.runEnd = 0;
    } else if (before(rating, head, this.runRatings[this.runEnd - 1]!, this.runHeads[this.runEnd - 1]!)) {
      this.rest.push(rating, head);
      return;
    }
    if (this.runEnd === this.runHeads.length) this.growRun();
    this.runRatings[this.runEnd] = rating;
    this.runHeads[this.runEnd++] = head;
  }

  /** Removes and returns the head with the lowest rating; -1 when empty. */
  pop(): number {
    if (this.size === 0) return -1;
    this.size--;
    // 0: the sorted entries, 1: the run, 2: the heap.
    let from = -1;
    let rating = 0;
    let head = 0;
    if (this.next < this.sortedHeads.length) {
      from = 0;
      rating = this.sortedRatings[this.next]!;
      head = this.sortedHeads[this.next]!;
    }
    if (this.runStart < this.runEnd) {
      const r = this.runRatings[this.runStart]!;
      const h = this.runHeads[this.runStart]!;
      if (from < 0 || before(r, h, rating, head)) {
        from = 1;
        rating = r;
        head = h;
      }
    }
    if (this.rest.size > 0 && (from < 0 || before(this.rest.topRating, this.rest.topHead, rating, head))) {
      from = 2;
      rating = this.rest.topRating;
      head = this.rest.pop();
    }
    if (from === 0) this.next++;
    else if (from === 1) this.runStart++;
    this.lastRating = rating;
    return head;
  }

  private growRun(): void {
    [this.runRatings, this.runHeads] = doubled(this.runRatings, this.runHeads);
  }
}
