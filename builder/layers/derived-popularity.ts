/**
 * Popularity derived from the package set itself, where no popularity file is configured:
 * one evaluation per package-set revision (nix/popularity.nix, nothing built), kept for the
 * life of the builder and shared by concurrent builds of the revision. A failed evaluation
 * is kept for RETRY_FAILED_MS only: builds plan without popularity meanwhile (one evaluation
 * of a whole package set can take minutes, not worth repeating for every pull), then the
 * next one tries again.
 */
import type { NixSystem } from "../nix/nix.ts";
import type { ResolvedSource } from "../sources.ts";
import { parsePopularity } from "./popularity.ts";
import type { Popularity } from "./popularity.ts";

export type CountPopularity = (source: ResolvedSource, system: NixSystem, signal?: AbortSignal) => Promise<unknown>;

/** How long a failed count stands before a build tries again. */
export const RETRY_FAILED_MS = 10 * 60_000;

export class DerivedPopularity {
  private readonly byRevision = new Map<string, Promise<Popularity>>();

  constructor(
    private readonly count: CountPopularity,
    private readonly log: (msg: string, fields?: Record<string, unknown>) => void = () => {},
    private readonly retryFailedMs = RETRY_FAILED_MS,
  ) {}

  /** The revision's popularity, or null when it could not be counted. */
  async get(source: ResolvedSource, system: NixSystem, signal?: AbortSignal): Promise<Popularity | null> {
    // A moving source (a path, a branch) is keyed by what it resolved to; a commit by itself.
    const key = `${system}\n${source.cacheKey ?? source.revision}\n${source.pkgsPath}`;
    let counted = this.byRevision.get(key);
    if (!counted) {
      counted = this.count(source, system).then(parsePopularity);
      this.byRevision.set(key, counted);
      counted.catch(() => setTimeout(() => this.byRevision.delete(key), this.retryFailedMs).unref());
    }
    try {
      return await abortable(counted, signal);
    } catch (e) {
      if (signal?.aborted) throw e;
      this.log("counting popularity failed; planning without it", { revision: source.revision, error: (e as Error).message });
      return null;
    }
  }
}

/** `promise`, or a rejection as soon as `signal` aborts (the shared count goes on). */
function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new Error("aborted"));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
