import { BuildError } from "../../common/build-error.ts";
import { canonicalRequest, requestKey } from "../../common/image-request.ts";
import type { BuildEvent, BuildFn, ImageResult, ImageSpec, RunOptions } from "./types.ts";

export interface FlightOptions {
  /** Builds that may run at once; the rest wait in a queue (default 2). */
  maxConcurrent?: number;
  /** Builds that may wait; past this a call is refused as unavailable (default 100). */
  maxQueued?: number;
  /**
   * How long a build that failed for a reason of its own (a derivation that fails, unknown
   * packages) answers later calls with the same error instead of running again (default
   * 60 s; 0 turns it off). Clients retry a failed pull at once, and a failing derivation
   * can cost minutes of CPU each time.
   */
  failureTtlMs?: number;
  /**
   * Deadline of one build once it runs (default none). A build goes on until then whether
   * anyone waits for it or not: a pull that gave up comes back and joins it or gets its result.
   */
  buildTimeoutMs?: number;
  /** How long the result of a build some caller gave up waiting for answers the next call (default 10 min). */
  resultTtlMs?: number;
  now?: () => number;
}


/** Failures that say something about the image itself, so running it again soon is waste. */
const REMEMBERED_FAILURES = new Set<BuildError["kind"]>(["build_failed", "not_found", "denied"]);

type Listener = (e: BuildEvent) => void;

/** Values that answer for a while, expiring in insertion order (every entry lives as long). */
class Expiring<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  constructor(private readonly ttlMs: number, private readonly now: () => number) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (e && e.until > this.now()) return e.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, until: this.now() + this.ttlMs });
    for (const [k, e] of this.entries) {
      if (e.until > this.now()) break;
      this.entries.delete(k);
    }
  }
}

/** One build shared by every caller that asked for the same image while it ran. */
class Flight {
  readonly events: BuildEvent[] = [];
  readonly listeners = new Set<Listener>();
  readonly abort = new AbortController();
  /** Set when a caller stopped waiting: its client will come back for the result. */
  abandoned = false;
  result!: Promise<ImageResult>;
  startNow!: () => void;

  emit(e: BuildEvent): void {
    // Log lines are not replayed to late joiners (they can be many); phases and layers are.
    if (e.type !== "log") this.events.push(e);
    for (const l of this.listeners) l(e);
  }
}

/**
 * Single-flight builds with a bounded number running at once. Concurrent calls for the same
 * canonical request share one build and see the same events; a build goes on when its callers
 * go away (up to its deadline), unless the last one asks to cancel it, and its result answers
 * the next call; queued builds learn their queue position as it changes.
 */
export class BuildFlights {
  private readonly flights = new Map<string, Flight>();
  private readonly queue: Flight[] = [];
  private running = 0;
  private readonly maxConcurrent: number;
  private readonly maxQueued: number;
  private readonly buildTimeoutMs: number | undefined;
  /** Recent failures by request key (see FlightOptions.failureTtlMs). */
  private readonly failures: Expiring<BuildError>;
  /** Results of builds some caller gave up on (see FlightOptions.resultTtlMs). */
  private readonly unclaimed: Expiring<ImageResult>;
  private closed = false;

  constructor(private readonly build: BuildFn, opts: FlightOptions = {}) {
    this.maxConcurrent = Math.max(1, opts.maxConcurrent ?? 2);
    this.maxQueued = opts.maxQueued ?? 100;
    this.buildTimeoutMs = opts.buildTimeoutMs;
    const now = opts.now ?? Date.now;
    this.failures = new Expiring(opts.failureTtlMs ?? 60_000, now);
    this.unclaimed = new Expiring(opts.resultTtlMs ?? 10 * 60_000, now);
  }

  /** Builds in progress or waiting (for health and tests). */
  get size(): number {
    return this.flights.size;
  }

  /**
   * Joins (or starts) the build for `spec`; `onEvent` sees its events until it settles.
   * `signal` ends this caller's wait; the build ends with it only as `opts` says.
   */
  run(spec: ImageSpec, onEvent: Listener, signal?: AbortSignal, opts: RunOptions = {}): Promise<ImageResult> {
    if (this.closed) return Promise.reject(new BuildError("unavailable", "the builder is shutting down", { retryAfterSeconds: 5 }));
    if (signal?.aborted) return Promise.reject(new BuildError("cancelled", "cancelled"));
    const canonical = canonicalRequest(spec);
    const key = requestKey(canonical);
    const failed = this.failures.get(key);
    if (failed) return Promise.reject(failed);
    const done = this.unclaimed.get(key);
    if (done) return Promise.resolve(done);
    let flight = this.flights.get(key);
    if (!flight) {
      if (this.queue.length >= this.maxQueued) {
        return Promise.reject(new BuildError("unavailable", `builder overloaded: ${this.queue.length} builds waiting`, { retryAfterSeconds: 30 }));
      }
      flight = this.start(key, canonical);
    }
    for (const e of flight.events) onEvent(e);
    flight.listeners.add(onEvent);
    const f = flight;
    const leave = () => {
      f.listeners.delete(onEvent);
      f.abandoned = true;
      if (f.listeners.size === 0 && opts.cancelIfAbandoned) f.abort.abort(new BuildError("cancelled", "cancelled: every caller went away"));
    };
    signal?.addEventListener("abort", leave, { once: true });
    return new Promise<ImageResult>((resolve, reject) => {
      const onAbort = () => reject(new BuildError("cancelled", "cancelled"));
      signal?.addEventListener("abort", onAbort, { once: true });
      f.result.then(resolve, reject).finally(() => {
        f.listeners.delete(onEvent);
        signal?.removeEventListener("abort", leave);
        signal?.removeEventListener("abort", onAbort);
      });
    });
  }

  /** Refuses new builds and waits for running ones (cancelling them after `graceMs`). */
  async close(graceMs = 30_000): Promise<void> {
    this.closed = true;
    for (const f of this.queue.splice(0)) f.abort.abort();
    const all = [...this.flights.values()].map((f) => f.result.catch(() => undefined));
    const timer = setTimeout(() => {
      for (const f of this.flights.values()) f.abort.abort();
    }, graceMs);
    await Promise.all(all);
    clearTimeout(timer);
  }

  private start(key: string, spec: ImageSpec): Flight {
    const flight = new Flight();
    this.flights.set(key, flight);
    const turn = new Promise<void>((resolve, reject) => {
      flight.startNow = resolve;
      flight.abort.signal.addEventListener("abort", () => reject(new BuildError("cancelled", "cancelled while queued")), { once: true });
    });
    turn.catch(() => undefined); // awaited only when the flight had to queue
    flight.result = (async () => {
      try {
        if (this.running >= this.maxConcurrent) {
          this.queue.push(flight);
          this.announceQueue();
          await turn;
        }
        this.running++;
        const deadline = this.deadline(flight);
        try {
          return await this.build(spec, (e) => flight.emit(e), flight.abort.signal);
        } catch (err) {
          // Stopped from here (deadline, cancellation, shutdown): that reason, whatever the build threw.
          const reason: unknown = flight.abort.signal.reason;
          throw flight.abort.signal.aborted && reason instanceof BuildError ? reason : err;
        } finally {
          clearTimeout(deadline);
          this.running--;
          this.next();
        }
      } finally {
        this.flights.delete(key);
        const i = this.queue.indexOf(flight);
        if (i >= 0) (this.queue.splice(i, 1), this.announceQueue());
      }
    })();
    // Kept when a caller gave up on it (one still listed may be gone already: its cancellation
    // can arrive after the result), or nobody waits. Runs before any caller's handlers.
    flight.result.then(
      (r) => (flight.abandoned || flight.listeners.size === 0) && this.unclaimed.set(key, r),
      (err: unknown) => err instanceof BuildError && REMEMBERED_FAILURES.has(err.kind) && this.failures.set(key, err),
    );
    return flight;
  }

  /** Aborts the flight past the build deadline; the timer to clear when it settles. */
  private deadline(flight: Flight): ReturnType<typeof setTimeout> | undefined {
    const ms = this.buildTimeoutMs;
    if (!ms) return undefined;
    const timer = setTimeout(() => flight.abort.abort(new BuildError("timeout", `the build ran past its deadline of ${Math.round(ms / 1000)} s`)), ms);
    timer.unref?.();
    return timer;
  }

  private next(): void {
    let f = this.queue.shift();
    // A flight cancelled while queued leaves the queue on its own; never hand it the slot.
    while (f?.abort.signal.aborted) f = this.queue.shift();
    this.announceQueue();
    f?.startNow();
  }

  private announceQueue(): void {
    this.queue.forEach((f, i) => f.emit({ type: "phase", phase: "queued", message: `waiting for a build slot (position ${i + 1})`, queuePosition: i + 1 }));
  }
}
