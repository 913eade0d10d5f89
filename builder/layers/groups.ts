/**
 * Disjoint groups of paths (union-find) with each group's size and popularity. A group is
 * named by its head: the member every merge kept as representative.
 */
export class Groups {
  private readonly parent: Int32Array;
  readonly size: Float64Array;
  /** Popularity of a group: its least popular member's, as the layer is reusable only when all of it is. */
  readonly popularity: Float64Array;
  count: number;

  constructor(size: Float64Array, popularity: Float64Array) {
    this.parent = new Int32Array(size.length);
    for (let v = 0; v < size.length; v++) this.parent[v] = v;
    this.size = Float64Array.from(size);
    this.popularity = Float64Array.from(popularity);
    this.count = size.length;
  }

  /** The head of v's group. */
  find(v: number): number {
    const parent = this.parent;
    while (parent[v] !== v) {
      parent[v] = parent[parent[v]!]!;
      v = parent[v]!;
    }
    return v;
  }

  isHead(v: number): boolean {
    return this.parent[v] === v;
  }

  /** Moves group `from` (a head) into group `into` (a head); `into` stays the head. */
  merge(from: number, into: number): void {
    if (from === into) return;
    this.parent[from] = into;
    this.size[into]! += this.size[from]!;
    this.popularity[into] = Math.min(this.popularity[into]!, this.popularity[from]!);
    this.count--;
  }

  /** Every group's head, ascending. */
  heads(): number[] {
    const out: number[] = [];
    for (let v = 0; v < this.parent.length; v++) if (this.parent[v] === v) out.push(v);
    return out;
  }

  /** Every group's members, ascending, keyed by head. */
  members(): Map<number, number[]> {
    const byHead = new Map<number, number[]>();
    // The same lists by head, in an array: one Map lookup per group rather than per path.
    const lists = new Array<number[] | undefined>(this.parent.length);
    for (let v = 0; v < this.parent.length; v++) {
      const head = this.find(v);
      const list = lists[head];
      if (list) list.push(v);
      else byHead.set(head, (lists[head] = [v]));
    }
    return byHead;
  }
}
