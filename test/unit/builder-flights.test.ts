import { describe, expect, it } from "vitest";
import { BuildError } from "../../common/build-error.ts";
import { BuildFlights } from "../../builder/service/flights.ts";
import type { BuildEvent, BuildFn, ImageResult, ImageSpec } from "../../builder/service/types.ts";

const spec = (packages: string[], tag = "latest"): ImageSpec => ({ packages, arch: "amd64", tag, formats: "both", compression: "gzip" });
const result = (name: string): ImageResult => ({ manifests: [], revision: name, immutable: false, packages: [name] });

/** A build function whose builds finish when the test says so. */
function controlled() {
  const calls: { spec: ImageSpec; signal: AbortSignal; finish: (r?: ImageResult) => void; fail: (e: Error) => void; emit: (e: BuildEvent) => void }[] = [];
  const fn: BuildFn = (s, emit, signal) =>
    new Promise((resolve, reject) => {
      calls.push({ spec: s, signal, emit, finish: (r) => resolve(r ?? result(s.packages.join("+"))), fail: reject });
      signal.addEventListener("abort", () => reject(new BuildError("cancelled", "aborted")));
    });
  return { fn, calls };
}
const tick = () => new Promise((r) => setTimeout(r, 5));

describe("single-flight builds", () => {
  it("shares one build among 20 identical concurrent calls, whatever the package order", async () => {
    const { fn, calls } = controlled();
    const flights = new BuildFlights(fn);
    const seen: BuildEvent[][] = [];
    const all = Array.from({ length: 20 }, (_, i) => {
      const events: BuildEvent[] = [];
      seen.push(events);
      return flights.run(spec(i % 2 ? ["git", "hello", "git"] : ["hello", "git"]), (e) => events.push(e));
    });
    await tick();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.spec.packages).toEqual(["git", "hello"]);
    calls[0]!.emit({ type: "phase", phase: "realising", message: "nix-build" });
    calls[0]!.finish();
    const results = await Promise.all(all);
    expect(new Set(results).size).toBe(1);
    for (const events of seen) expect(events).toEqual([{ type: "phase", phase: "realising", message: "nix-build" }]);
  });

  it("replays earlier phases to a caller that joins late", async () => {
    const { fn, calls } = controlled();
    const flights = new BuildFlights(fn);
    const first = flights.run(spec(["hello"]), () => {});
    await tick();
    calls[0]!.emit({ type: "phase", phase: "realising", message: "a" });
    calls[0]!.emit({ type: "log", line: "noise" });
    const late: BuildEvent[] = [];
    const second = flights.run(spec(["hello"]), (e) => late.push(e));
    calls[0]!.finish();
    await Promise.all([first, second]);
    expect(late).toEqual([{ type: "phase", phase: "realising", message: "a" }]);
  });

  it("keeps different images apart and builds them again after they finish", async () => {
    const { fn, calls } = controlled();
    const flights = new BuildFlights(fn, { maxConcurrent: 4 });
    const a = flights.run(spec(["a"]), () => {});
    const b = flights.run(spec(["a"], "other"), () => {});
    await tick();
    expect(calls).toHaveLength(2);
    calls.forEach((c) => c.finish());
    await Promise.all([a, b]);
    const again = flights.run(spec(["a"]), () => {});
    await tick();
    expect(calls).toHaveLength(3);
    calls[2]!.finish();
    await again;
  });

  it("cancels a build when its last caller leaves asking for that, not before", async () => {
    const { fn, calls } = controlled();
    const flights = new BuildFlights(fn);
    const one = new AbortController();
    const two = new AbortController();
    const p1 = flights.run(spec(["x"]), () => {}, one.signal, { cancelIfAbandoned: true });
    const p2 = flights.run(spec(["x"]), () => {}, two.signal, { cancelIfAbandoned: true });
    await tick();
    one.abort();
    await expect(p1).rejects.toMatchObject({ kind: "cancelled" });
    expect(calls[0]!.signal.aborted).toBe(false);
    two.abort();
    await expect(p2).rejects.toMatchObject({ kind: "cancelled" });
    expect(calls[0]!.signal.aborted).toBe(true);
  });

  it("goes on building when every caller leaves, and answers the next call with its result", async () => {
    const { fn, calls } = controlled();
    const flights = new BuildFlights(fn);
    const gone = new AbortController();
    const first = flights.run(spec(["big"]), () => {}, gone.signal);
    await tick();
    gone.abort();
    await expect(first).rejects.toMatchObject({ kind: "cancelled" });
    expect(calls[0]!.signal.aborted).toBe(false);
    // A pull that comes back while it runs joins it (one that comes after gets its result: below).
    const joined = flights.run(spec(["big"]), () => {});
    await tick();
    expect(calls).toHaveLength(1);
    calls[0]!.finish();
    expect((await joined).packages).toEqual(["big"]);
    expect(calls).toHaveLength(1);
  });

  it("keeps the result of a build that finished with nobody waiting, until its TTL passes", async () => {
    let clock = 0;
    const { fn, calls } = controlled();
    const flights = new BuildFlights(fn, { resultTtlMs: 1_000, now: () => clock });
    const gone = new AbortController();
    const first = flights.run(spec(["big"]), () => {}, gone.signal);
    gone.abort();
    await first.catch(() => {});
    await tick();
    calls[0]!.finish();
    await tick();
    const kept = await flights.run(spec(["big"]), () => {});
    expect(calls).toHaveLength(1);
    clock = 1_000;
    const again = flights.run(spec(["big"]), () => {});
    await tick();
    expect(calls).toHaveLength(2);
    calls[1]!.finish();
    expect(await again).not.toBe(kept);
  });

  it("keeps the result when a caller gave up, even if another was listed at the end (its cancellation may come late)", async () => {
    const { fn, calls } = controlled();
    const flights = new BuildFlights(fn);
    const gone = new AbortController();
    const first = flights.run(spec(["big"]), () => {}, gone.signal);
    gone.abort();
    await first.catch(() => {});
    const late = flights.run(spec(["big"]), () => {});
    await tick();
    calls[0]!.finish();
    const r = await late;
    expect(await flights.run(spec(["big"]), () => {})).toBe(r);
    expect(calls).toHaveLength(1);
  });

  it("ends a build past its deadline with a timeout for every caller, waiting or not", async () => {
    const { fn, calls } = controlled();
    const flights = new BuildFlights(fn, { buildTimeoutMs: 20 });
    const gone = new AbortController();
    const left = flights.run(spec(["slow"]), () => {}, gone.signal);
    gone.abort();
    await left.catch(() => {});
    const waiting = flights.run(spec(["slow"]), () => {});
    await expect(waiting).rejects.toMatchObject({ kind: "timeout", message: expect.stringMatching(/deadline/) });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.signal.aborted).toBe(true);
    expect(flights.size).toBe(0);
  });

  it("runs at most maxConcurrent builds and reports queue positions", async () => {
    const { fn, calls } = controlled();
    const flights = new BuildFlights(fn, { maxConcurrent: 1 });
    const queued: (number | undefined)[] = [];
    const a = flights.run(spec(["a"]), () => {});
    const b = flights.run(spec(["b"]), () => {});
    const c = flights.run(spec(["c"]), (e) => e.type === "phase" && e.phase === "queued" && queued.push(e.queuePosition));
    await tick();
    expect(calls.map((x) => x.spec.packages[0])).toEqual(["a"]);
    calls[0]!.finish();
    await a;
    await tick();
    expect(calls.map((x) => x.spec.packages[0])).toEqual(["a", "b"]);
    expect(queued).toEqual([2, 1]);
    calls[1]!.finish();
    await tick();
    calls[2]!.finish();
    await Promise.all([b, c]);
  });

  it("gives the slot to the next live build when a queued one is cancelled", async () => {
    const { fn, calls } = controlled();
    const flights = new BuildFlights(fn, { maxConcurrent: 1 });
    const a = flights.run(spec(["a"]), () => {});
    const gone = new AbortController();
    const b = flights.run(spec(["b"]), () => {}, gone.signal, { cancelIfAbandoned: true });
    const c = flights.run(spec(["c"]), () => {});
    gone.abort();
    await expect(b).rejects.toMatchObject({ kind: "cancelled" });
    calls[0]!.finish();
    await a;
    await tick();
    expect(calls.map((x) => x.spec.packages[0])).toEqual(["a", "c"]);
    calls[1]!.finish();
    await c;
  });

  it("refuses new work when the queue is full, and after close", async () => {
    const { fn, calls } = controlled();
    const flights = new BuildFlights(fn, { maxConcurrent: 1, maxQueued: 1 });
    const a = flights.run(spec(["a"]), () => {});
    const b = flights.run(spec(["b"]), () => {});
    await expect(flights.run(spec(["c"]), () => {})).rejects.toMatchObject({ kind: "unavailable", details: { retryAfterSeconds: 30 } });
    await tick();
    const closing = flights.close(50);
    await expect(b).rejects.toMatchObject({ kind: "cancelled" });
    await expect(flights.run(spec(["d"]), () => {})).rejects.toMatchObject({ kind: "unavailable" });
    await closing;
    await expect(a).rejects.toMatchObject({ kind: "cancelled" });
    expect(calls).toHaveLength(1);
  });

  it("passes a build's error to every caller", async () => {
    const { fn, calls } = controlled();
    const flights = new BuildFlights(fn);
    const p = [flights.run(spec(["bad"]), () => {}), flights.run(spec(["bad"]), () => {})];
    await tick();
    calls[0]!.fail(new BuildError("build_failed", "boom", { derivation: "/nix/store/x.drv" }));
    for (const r of p) await expect(r).rejects.toMatchObject({ kind: "build_failed", details: { derivation: "/nix/store/x.drv" } });
  });
});

describe("remembered failures", () => {
  const failing = (error: BuildError) => {
    let runs = 0;
    const fn: BuildFn = async () => {
      runs++;
      throw error;
    };
    return { fn, runs: () => runs };
  };

  it("answers a repeat of a failed build with the same error, without building, until the TTL passes", async () => {
    let clock = 0;
    const error = new BuildError("build_failed", "build of /nix/store/x-broken.drv failed", { derivation: "/nix/store/x-broken.drv", logTail: "boom" });
    const { fn, runs } = failing(error);
    const flights = new BuildFlights(fn, { failureTtlMs: 1_000, now: () => clock });
    await expect(flights.run(spec(["broken"]), () => {})).rejects.toBe(error);
    clock = 999;
    // Same image however spelled: the canonical request is the key.
    await expect(flights.run(spec(["broken", "broken"]), () => {})).rejects.toBe(error);
    expect(runs()).toBe(1);
    await expect(flights.run(spec(["broken"], "other-tag"), () => {})).rejects.toBe(error);
    expect(runs()).toBe(2);
    clock = 1_000;
    await expect(flights.run(spec(["broken"]), () => {})).rejects.toBe(error);
    expect(runs()).toBe(3);
  });

  it("remembers unknown packages too, but never retryable failures, cancellations or internal errors", async () => {
    for (const [kind, remembered] of [["not_found", true], ["unavailable", false], ["timeout", false], ["cancelled", false], ["internal", false]] as const) {
      const { fn, runs } = failing(new BuildError(kind, kind));
      const flights = new BuildFlights(fn);
      await flights.run(spec(["x"]), () => {}).catch(() => {});
      await flights.run(spec(["x"]), () => {}).catch(() => {});
      expect(runs(), kind).toBe(remembered ? 1 : 2);
    }
  });

  it("remembers nothing with a TTL of 0, and a success is never affected", async () => {
    const { fn, runs } = failing(new BuildError("build_failed", "x"));
    const off = new BuildFlights(fn, { failureTtlMs: 0 });
    await off.run(spec(["x"]), () => {}).catch(() => {});
    await off.run(spec(["x"]), () => {}).catch(() => {});
    expect(runs()).toBe(2);
    let ok = 0;
    const good = new BuildFlights(async (s) => (ok++, result(s.packages.join("+"))));
    await good.run(spec(["hello"]), () => {});
    await good.run(spec(["hello"]), () => {});
    expect(ok).toBe(2);
  });
});
