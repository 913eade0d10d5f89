/**
 * Suite `layers`: grouping time at 1k/10k/50k paths, and layering quality of nixport's
 * planner side by side with four references, on package sets of several shapes (see
 * shapes.ts) and the pairs of images users make (see workload.ts).
 * Tiny mode: 1k paths, small shapes, no nix/testpkgs images.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { planLayers } from "../../builder/layers/plan.ts";
import type { Popularity } from "../../builder/layers/popularity.ts";
import { measureQuality } from "./layer-quality.ts";
import type { ImagePair, Quality } from "./layer-quality.ts";
import { idealStaticOrder, nixeryStyle, nixpkgsStyle, singleLayer } from "./reference-planners.ts";
import type { Planner } from "./reference-planners.ts";
import { compared, figure } from "./report.ts";
import type { Figure, SuiteContext } from "./report.ts";
import { shapedSet, SHAPES } from "./shapes.ts";
import { testpkgsWorkload } from "./testpkgs-workload.ts";
import { PAIR_KINDS, workloadFromSet } from "./workload.ts";
import type { Workload } from "./workload.ts";

const SUITE = "layers";

export async function run(ctx: SuiteContext): Promise<Figure[]> {
  const figures = timingFigures(ctx);
  const [packages, pairs] = ctx.tiny ? [120, 2] : [900, 12];
  const workloads = SHAPES.map((shape, i) => workloadFromSet(shape, shapedSet(shape, packages, i + 1), pairs, i + 101));
  const testpkgs = ctx.tiny ? null : await testpkgsWorkload(ctx, 8);
  if (testpkgs) workloads.push(testpkgs);
  ctx.note("re-downloads of B after A, as % of B's bytes: by digest (B's layers A lacks) and by ChainID (from B's first layer that differs from A's)");
  for (const w of workloads) figures.push(...qualityFigures(ctx, w));
  return figures;
}

function describe(pairs: readonly ImagePair[]): string {
  const paths = pairs.map((p) => p.b.paths.length);
  const mean = paths.reduce((s, x) => s + x, 0) / paths.length;
  return `B images of ${Math.min(...paths)}–${Math.max(...paths)} paths (mean ${mean.toFixed(0)})`;
}

/** Grouping time of a whole synthetic package set, and the planning process's peak RSS (see layers-child.ts). */
function timingFigures(ctx: SuiteContext): Figure[] {
  return (ctx.tiny ? [1_000] : [1_000, 10_000, 50_000]).flatMap((size) => {
    const k = size / 1000;
    const planned = planInChild(size, true);
    const graphOnly = planInChild(size, false);
    ctx.note(`grouping ${planned.paths} paths: ${planned.ms.toFixed(1)} ms, peak RSS ${planned.maxRssMb.toFixed(0)} MB (${graphOnly.maxRssMb.toFixed(0)} MB without planning)`);
    return [
      figure(SUITE, `layers.group_ms_${k}k`, planned.ms, "ms", {
        label: `grouping a ${k}k-path graph`,
        ...(size === 50_000 ? { target: { of: "value" as const, max: 100 } } : {}),
      }),
      compared(SUITE, `layers.group_peak_rss_${k}k`, planned.maxRssMb, "MB", graphOnly.maxRssMb, {
        reference: "the same process, graph built but not planned",
        ...(size === 50_000 ? { label: `peak RSS grouping a ${k}k-path graph` } : {}),
      }),
    ];
  });
}

interface ChildResult {
  paths: number;
  ms: number;
  maxRssMb: number;
}

/** Runs layers-child.ts: a process of its own, so its peak RSS is the planner's and its graph's alone. */
function planInChild(size: number, plan: boolean): ChildResult {
  const child = fileURLToPath(new URL("./layers-child.ts", import.meta.url));
  const r = spawnSync(process.execPath, ["--import", "tsx", child, String(size), plan ? "plan" : "graph"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (r.status !== 0) throw new Error(`layers-child.ts ${size} exited with ${r.status}`);
  return JSON.parse(r.stdout) as ChildResult;
}

/** The references nixport is compared with, all given the package set's popularity. */
const REFERENCES: { id: string; make: (pop: Popularity) => Planner }[] = [
  { id: "nixery", make: (pop) => nixeryStyle(pop, 94) },
  { id: "nixpkgs", make: (pop) => nixpkgsStyle(pop, 100) },
  { id: "single", make: () => singleLayer },
  { id: "ideal", make: (pop) => idealStaticOrder(pop) },
];

const nixport = (popularity: Popularity): Planner => (g) => planLayers(g, { popularity }).layers;

/** nixport with each source of popularity: what each buys. */
const NIXPORT: { id: string; popularity: (w: Workload) => Popularity }[] = [
  { id: "nixport", popularity: (w) => w.popularity },
  { id: "nixport_usage", popularity: (w) => w.usage },
  { id: "nixport_none", popularity: () => new Map() },
];

/** One table per workload: every planner's re-downloads by digest and by ChainID, and the targets. */
function qualityFigures(ctx: SuiteContext, w: Workload): Figure[] {
  const q = new Map<string, Quality>();
  for (const { id, make } of REFERENCES) q.set(id, measureQuality(make(w.popularity), w.pairs));
  for (const { id, popularity } of NIXPORT) q.set(id, measureQuality(nixport(popularity(w)), w.pairs));
  const of = (id: string) => q.get(id)!;
  const pct = (x: number) => 100 * x;
  const prefix = `${SUITE}.${w.name}`;
  const figures: Figure[] = [];
  for (const [id, x] of q) {
    figures.push(
      compared(SUITE, `${prefix}.digest_pct.${id}`, pct(x.digestShare), "%", pct(of("ideal").digestShare)),
      compared(SUITE, `${prefix}.chainid_pct.${id}`, pct(x.chainIdShare), "%", pct(of("ideal").chainIdShare)),
      figure(SUITE, `${prefix}.max_layers.${id}`, x.maxLayers, "layers"),
    );
  }
  const me = of("nixport");
  const label = (what: string) => (w.name === "testpkgs" ? {} : { label: `${what}, ${w.name} shape` });
  figures.push(
    compared(SUITE, `${prefix}.chainid_vs_ideal`, pct(me.chainIdShare), "%", pct(of("ideal").chainIdShare), {
      target: { of: "ratio", max: 1.5 },
      reference: "ideal static order",
      ...label("ChainID re-download of B after A"),
    }),
    compared(SUITE, `${prefix}.chainid_vs_nixery`, pct(me.chainIdShare), "%", pct(of("nixery").chainIdShare), {
      target: { of: "ratio", max: 0.3 },
      reference: "Nixery-style planner",
      ...label("the same"),
    }),
    compared(SUITE, `${prefix}.digest_vs_nixery`, pct(me.digestShare), "%", pct(of("nixery").digestShare), {
      target: { of: "ratio", max: 0.3 },
      reference: "Nixery-style planner",
      ...label("digest re-download of B after A"),
    }),
    figure(SUITE, `${prefix}.layers_used`, me.maxLayers, "layers", { target: { of: "value", max: 100 } }),
  );
  ctx.note(table(w, q));
  return figures;
}

function table(w: Workload, q: ReadonlyMap<string, Quality>): string {
  const rows = [["planner", "digest %", "ChainID %", "layers", "stored MB"]];
  for (const [id, x] of q) rows.push([id, (100 * x.digestShare).toFixed(1), (100 * x.chainIdShare).toFixed(1), String(x.maxLayers), (x.storedBytes / 1e6).toFixed(0)]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  "));
  return [`${w.name}: ${w.pairs.length} pairs (${PAIR_KINDS.join(", ")}), ${describe(w.pairs)}`, ...lines].join("\n");
}
