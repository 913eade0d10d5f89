/**
 * A binary min-heap of (rating, head) pairs in typed arrays, ordered by rating then head
 * (the lower path index first, so ties break the same way on every run).
 */
export class RatingHeap {
  private ratings = new Float64Array(64);
  private heads = new Int32Array(64);
  size = 0;
  /** Rating of the entry the last pop() returned. */
  lastRating = 0;

  /** A heap of `heads` with their ratings, pushed in that order. */
  static from(heads: readonly number[], rating: (head: number) => number): RatingHeap {
    const heap = new RatingHeap();
    for (const head of heads) heap.push(rating(head), head);
    return heap;
  }

  /** The entry pop() would return next, and its rating; only while size > 0. */
  get topHead(): number {
    return this.heads[0]!;
  }

  get topRating(): number {
    return this.ratings[0]!;
  }

  push(rating: number, head: number): void {
    if (this.size === this.heads.length) this.grow();
    let i = this.size++;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!this.before(rating, head, up)) break;
      this.ratings[i] = this.ratings[up]!;
      this.heads[i] = this.heads[up]!;
      i = up;
    }
    this.ratings[i] = rating;
    this.heads[i] = head;
  }

  /** Removes and returns the head with the lowest rating; -1 when empty. */
  pop(): number {
    if (this.size === 0) return -1;
    const top = this.heads[0]!;
    this.lastRating = this.ratings[0]!;
    const n = --this.size;
    const rating = this.ratings[n]!;
    const head = this.heads[n]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.before(this.ratings[child + 1]!, this.heads[child + 1]!, child)) child++;
      if (!this.before(this.ratings[child]!, this.heads[child]!, -1, rating, head)) break;
      this.ratings[i] = this.ratings[child]!;
      this.heads[i] = this.heads[child]!;
      i = child;
    }
    this.ratings[i] = rating;
    this.heads[i] = head;
    return top;
  }

  /** Whether (rating, head) sorts before slot j, or before (r2, h2) when j is -1. */
  private before(rating: number, head: number, j: number, r2 = this.ratings[j]!, h2 = this.heads[j]!): boolean {
    return sortsBefore(rating, head, r2, h2);
  }

  private grow(): void {
    [this.ratings, this.heads] = doubled(this.ratings, this.heads);
  }
}

/** The entries' order: by rating, then by head (the lower path index first). */
export function sortsBefore(rating: number, head: number, r2: number, h2: number): boolean {
  return rating < r2 || (rating === r2 && head < h2);
}

/** Entry arrays of twice the length, holding the same entries. */
export function doubled(ratings: Float64Array, heads: Int32Array): [Float64Array<ArrayBuffer>, Int32Array<ArrayBuffer>] {
  const r = new Float64Array(heads.length * 2);
  const h = new Int32Array(heads.length * 2);
  r.set(ratings);
  h.set(heads);
  return [r, h];
}
