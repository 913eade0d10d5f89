/**
 * Tag → manifest cache: which manifest a tag (of a canonical request) resolved to, so a pull
 * of a built image never reaches a builder. Moving sources (channels, branches) expire after
 * the builder's TTL; commits never do (expires = null).
 *
 * Entries are kept `staleSeconds` past expiry so that, while builders are unreachable, the
 * last known answer can still be served (the app decides when; get returns stale entries).
 */

export interface ManifestRef {
  digest: string;
  mediaType: string;
  size: number;
}

export interface TagEntry extends ManifestRef {
  /** The same image in the other manifest format. */
  alternates?: ManifestRef[];
  revision?: string;
  /** Epoch ms after which the entry should be refreshed; null = never (immutable source). */
  expires: number | null;
}

export interface TagCache {
  get(key: string): Promise<TagEntry | null>;
  put(key: string, entry: TagEntry): Promise<void>;
}

/** Both formats of an entry, primary first. */
export function manifestRefs(entry: TagEntry): ManifestRef[] {
  const { digest, mediaType, size } = entry;
  return [{ digest, mediaType, size }, ...(entry.alternates ?? [])];
}

export function isFresh(entry: TagEntry, now: number): boolean {
  return entry.expires === null || entry.expires > now;
}

const YEAR_SECONDS = 365 * 24 * 3600;

/** Seconds a store should keep the entry: until expiry plus the stale grace; null = forever. */
export function retentionSeconds(entry: TagEntry, now: number, staleSeconds: number): number | null {
  if (entry.expires === null) return null;
  return Math.max(1, Math.ceil((entry.expires - now) / 1000) + staleSeconds);
}

function parseEntry(text: string | null): TagEntry | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as TagEntry;
    return typeof v.digest === "string" && typeof v.mediaType === "string" && typeof v.size === "number" ? v : null;
  } catch {
    return null;
  }
}

export class MemoryTagCache implements TagCache {
  private readonly entries = new Map<string, { entry: TagEntry; dropAt: number }>();

  constructor(
    private readonly staleSeconds = 86_400,
    private readonly now: () => number = Date.now,
    /** Bound on entries; the oldest inserted go first. */
    private readonly maxEntries = 10_000,
  ) {}

  async get(key: string): Promise<TagEntry | null> {
    const hit = this.entries.get(key);
    if (!hit) return null;
    if (hit.dropAt <= this.now()) {
      this.entries.delete(key);
      return null;
    }
    return hit.entry;
  }

  async put(key: string, entry: TagEntry): Promise<void> {
    const keep = retentionSeconds(entry, this.now(), this.staleSeconds);
    const dropAt = keep === null ? Infinity : this.now() + keep * 1000;
    this.entries.delete(key);
    this.entries.set(key, { entry, dropAt });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}

/** The part of a Workers KV namespace binding used here. */
export interface KVNamespaceLike {
  get(key: string): Promise<string | null>;
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
}

/** KV: global, eventually consistent; the durable tier on Workers. */
export class KVTagCache implements TagCache {
  constructor(
    private readonly kv: KVNamespaceLike,
    private readonly staleSeconds = 86_400,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<TagEntry | null> {
    return parseEntry(await this.kv.get(kvKey(key)));
  }

  async put(key: string, entry: TagEntry): Promise<void> {
    // KV refuses expirationTtl below 60 s; immutable entries are kept without expiry.
    const keep = retentionSeconds(entry, this.now(), this.staleSeconds);
    await this.kv.put(kvKey(key), JSON.stringify(entry), keep === null ? {} : { expirationTtl: Math.max(60, keep) });
  }
}

/** KV keys are at most 512 bytes; canonical keys are far shorter, but never trust that. */
function kvKey(key: string): string {
  return `tag:${key}`.slice(0, 500);
}

/** The part of the Workers Cache API used here. */
export interface CacheLike {
  match(request: Request): Promise<Response | undefined>;
  put(request: Request, response: Response): Promise<void>;
}

/** The Cache API: per data centre, fastest; in front of KV on Workers. */
export class CacheApiTagCache implements TagCache {
  constructor(
    private readonly cache: CacheLike,
    private readonly staleSeconds = 86_400,
    private readonly now: () => number = Date.now,
  ) {}

  private request(key: string): Request {
    return new Request(`https://tag-cache.nixport.invalid/${encodeURIComponent(key)}`);
  }

  async get(key: string): Promise<TagEntry | null> {
    const res = await this.cache.match(this.request(key));
    return res ? parseEntry(await res.text()) : null;
  }

  async put(key: string, entry: TagEntry): Promise<void> {
    // The Cache API has no "forever"; a year, and KV behind it keeps the entry for good.
    const maxAge = retentionSeconds(entry, this.now(), this.staleSeconds) ?? YEAR_SECONDS;
    const res = new Response(JSON.stringify(entry), {
      headers: { "Content-Type": "application/json", "Cache-Control": `public, max-age=${maxAge}` },
    });
    await this.cache.put(this.request(key), res);
  }
}

/** Looks in each tier in order, back-filling the faster tiers from a slower hit; writes all. */
export class TieredTagCache implements TagCache {
  constructor(private readonly tiers: TagCache[]) {}

  async get(key: string): Promise<TagEntry | null> {
    for (let i = 0; i < this.tiers.length; i++) {
      const entry = await this.tiers[i]!.get(key);
      if (entry) {
        if (i > 0) await Promise.all(this.tiers.slice(0, i).map((t) => t.put(key, entry)));
        return entry;
      }
    }
    return null;
  }

  async put(key: string, entry: TagEntry): Promise<void> {
    await Promise.all(this.tiers.map((t) => t.put(key, entry)));
  }
}
