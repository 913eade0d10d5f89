/**
 * Disjoint groups of paths (union-find). A group is named by its head: the member every
 * merge kept as representative.
 */
export class Groups {
  private readonly parent: Int32Array;

  constructor(n: number) {
    this.parent = new Int32Array(n);
    for (let v = 0; v < n; v++) this.parent[v] = v;
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
    this.parent[from] = into;
  }

  /** Every group's head, ascending. */
  heads(): number[] {
    const out: number[] = [];
    for (let v = 0; v < this.parent.length; v++) if (this.parent[v] === v) out.push(v);
    return out;
  }
}
