/** The last builds and failures this edge saw, for the landing page (per process / isolate). */

export interface RecentBuild {
  /** Canonical request key (arch/packages:tag). */
  image: string;
  at: number;
  digest?: string;
  revision?: string;
  /** Error code and message when the build failed. */
  error?: string;
}

export class RecentBuilds {
  private readonly items: RecentBuild[] = [];

  constructor(private readonly max = 20) {}

  record(item: RecentBuild): void {
    this.items.unshift(item);
    if (this.items.length > this.max) this.items.length = this.max;
  }

  /** Newest first. */
  list(): readonly RecentBuild[] {
    return this.items;
  }

  /** The newest source revision any build reported. */
  lastRevision(): string | undefined {
    return this.items.find((i) => i.revision)?.revision;
  }
}
