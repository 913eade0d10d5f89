/**
 * Suite `layers`: grouping time at 1k/10k/50k paths, and layering quality of nixport's
 * planner side by side with four references over a fixed workload of image pairs.
 * Tiny mode: 1k paths, small synthetic workloads, no nix/testpkgs images.
 */
import { planLayers } from "../../builder/layers/plan.ts";
import { popularityFromClosures } from "../../builder/layers/popularity.ts";
import type { Popularity } from "../../builder/layers/popularity.ts";
import type { ClosureGraph } from "../../builder/nix/graph.ts";
import { measureQuality } from "./layer-quality.ts";
import type { ImagePair, Quality } from "./layer-quality.ts";
import { idealLayers, nixeryStyle, nixpkgsStyle, singleLayer } from "./reference-planners.ts";
import type { Planner } from "./reference-planners.ts";
import { compared, figure } from "./report.ts";
import type { Figure, SuiteContext } from "./report.ts";
import { prng } from "../support/prng.ts";
import { closureGraph, syntheticPackageSet } from "./synthetic.ts";
import { testpkgsWorkload } from "./testpkgs-workload.ts";
import { syntheticWorkloads } from "./workload.ts";
import type { Workload } from "./workload.ts";

const SUITE = "layers";

export async function run(ctx: SuiteContext): Promise<Figure[]> {
  const figures = timingFigures(ctx);
  const workloads = ctx.tiny ? syntheticWorkloads(100, 2) : syntheticWorkloads(600, 20);
  const testpkgs = ctx.tiny ? null : await testpkgsWorkload(ctx, 15);
  if (testpkgs) workloads.push(testpkgs);
  for (const w of workloads) ctx.note(`workload ${w.name}: ${w.pairs.length} pairs, ${describe(w.pairs)}`);
  const images = workloads.reduce((n, w) => n + 2 * w.pairs.length, 0);
  ctx.note(`quality over ${images} images; redownload = bytes of B's layers missing from A's, as % of B's bytes`);
  figures.push(...qualityFigures("layers", workloads));
  if (testpkgs) figures.push(...qualityFigures("layers.testpkgs", [testpkgs]).filter((f) => f.name.includes("_vs_")));
  return figures;
}

function describe(pairs: readonly ImagePair[]): string {
  const paths = pairs.map((p) => p.b.paths.length);
  const mean = paths.reduce((s, x) => s + x, 0) / paths.length;
  return `B images of ${Math.min(...paths)}–${Math.max(...paths)} paths (mean ${mean.toFixed(0)})`;
}

/** Median of five timed runs after one warm-up. */
function timeMs(fn: () => unknown): number {
  fn();
  const times = Array.from({ length: 5 }, () => {
    const t = performance.now();
    fn();
    return performance.now() - t;
  });
  return times.sort((a, b) => a - b)[2]!;
}

function timingFigures(ctx: SuiteContext): Figure[] {
  return (ctx.tiny ? [1_000] : [1_000, 10_000, 50_000]).map((size) => {
    const { graph, popularity } = wholeSetGraph(size);
    const ms = timeMs(() => planLayers(graph, { popularity }));
    ctx.note(`grouping ${graph.paths.length} paths: ${ms.toFixed(1)} ms`);
    const k = size / 1000;
    return figure(SUITE, `layers.group_ms_${k}k`, ms, "ms", {
      label: `grouping a ${k}k-path graph`,
      ...(size === 50_000 ? { target: { of: "value" as const, max: 100 } } : {}),
    });
  });
}

/**
 * The closure of a whole synthetic package set of about `target` paths, round-tripped
 * through JSON like `nix path-info` output (so no string is shared between records).
 */
function wholeSetGraph(target: number): { graph: ClosureGraph; popularity: Popularity } {
  const set = syntheticPackageSet({ packages: Math.round(target / 1.6), seed: target });
  const rand = prng(target);
  const sample = Array.from({ length: 300 }, () => set.packages[Math.floor(rand() * set.packages.length)]!);
  const popularity = popularityFromClosures(sample.map((p) => closureGraph(set, [p]).paths.map((i) => i.path)));
  const graph = JSON.parse(JSON.stringify({ roots: set.packages, paths: [...set.infos.values()] })) as ClosureGraph;
  return { graph, popularity };
}

const PLANNERS: { id: string; make: (pop: Popularity) => Planner }[] = [
  { id: "nixport", make: (popularity) => (g) => planLayers(g, { popularity }).layers },
  { id: "nixery", make: (pop) => nixeryStyle(pop, 94) },
  { id: "nixpkgs", make: (pop) => nixpkgsStyle(pop, 100) },
  { id: "single", make: () => singleLayer },
  { id: "ideal", make: () => idealLayers },
];

function qualityFigures(prefix: string, workloads: readonly Workload[]): Figure[] {
  const q = new Map<string, Quality>(
    PLANNERS.map(({ id, make }) => [id, combine(workloads.map((w) => measureQuality(make(w.popularity), w.pairs)), workloads)]),
  );
  const of = (id: string) => q.get(id)!;
  const pct = (x: number) => 100 * x;
  const figures: Figure[] = [];
  const each = (metric: string, unit: string, value: (q: Quality) => number) => {
    for (const { id } of PLANNERS) figures.push(compared(SUITE, `${prefix}.${metric}.${id}`, value(of(id)), unit, value(of("ideal"))));
  };
  each("redownload_pct", "%", (x) => pct(x.redownloadShare));
  figures.push(
    compared(SUITE, `${prefix}.redownload_vs_nixery`, pct(of("nixport").redownloadShare), "%", pct(of("nixery").redownloadShare), {
      ...(prefix === "layers" ? { target: { of: "ratio", max: 0.3 }, label: "bytes re-downloaded after a one-package change" } : {}),
      reference: "Nixery-style planner",
    }),
    compared(SUITE, `${prefix}.redownload_vs_ideal`, pct(of("nixport").redownloadShare), "%", pct(of("ideal").redownloadShare), {
      ...(prefix === "layers" ? { label: "the same" } : {}),
      reference: "ideal: one path per layer",
    }),
  );
  each("stored_mb", "MB", (x) => x.storedBytes / 1e6);
  each("kept_keys_pct", "%", (x) => pct(x.keptKeysShare));
  for (const { id } of PLANNERS) figures.push(figure(SUITE, `${prefix}.max_layers.${id}`, of(id).maxLayers, "layers"));
  return figures;
}

/** Several workloads' measures as one: shares weighted by pairs, stored bytes summed. */
function combine(qs: Quality[], workloads: readonly Workload[]): Quality {
  const weights = workloads.map((w) => w.pairs.length);
  const total = weights.reduce((s, x) => s + x, 0);
  const mean = (f: (q: Quality) => number) => qs.reduce((s, q, i) => s + f(q) * weights[i]!, 0) / total;
  return {
    redownloadShare: mean((q) => q.redownloadShare),
    storedBytes: qs.reduce((s, q) => s + q.storedBytes, 0),
    keptKeysShare: mean((q) => q.keptKeysShare),
    maxLayers: Math.max(...qs.map((q) => q.maxLayers)),
  };
}
