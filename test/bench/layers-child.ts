/**
 * Child process of the `layers` suite: builds the closure graph of a whole synthetic
 * package set of about `size` paths and, with `plan`, times planning it (median CPU time of
 * five runs after one warm-up); prints the paths, the time and the process's peak RSS as one JSON line.
 * Run with `graph` instead, it shows what the graph alone costs.
 * argv: size plan|graph
 */
import { planLayers } from "../../builder/layers/plan.ts";
import { popularityFromClosures } from "../../builder/layers/popularity.ts";
import type { Popularity } from "../../builder/layers/popularity.ts";
import type { ClosureGraph } from "../../builder/nix/graph.ts";
import { prng } from "../support/prng.ts";
import { syntheticPackageSet } from "./synthetic.ts";
import { closureGraph } from "./workload.ts";

const [size, mode] = [Number(process.argv[2]), process.argv[3]];
if (!(size > 0) || (mode !== "plan" && mode !== "graph")) throw new Error("usage: layers-child.ts SIZE plan|graph");
const { graph, popularity } = wholeSetGraph(size);
const ms = mode === "plan" ? timeMs(() => planLayers(graph, { popularity })) : 0;
console.log(JSON.stringify({ paths: graph.paths.length, ms, maxRssMb: process.resourceUsage().maxRSS / 1024 }));

/**
 * Median of five runs after one warm-up, in CPU time (user + system, all of the process's
 * threads): on a machine shared with other work, wall time mostly measures the others.
 */
function timeMs(fn: () => unknown): number {
  fn();
  const times = Array.from({ length: 5 }, () => {
    const t = process.cpuUsage();
    fn();
    const used = process.cpuUsage(t);
    return (used.user + used.system) / 1000;
  });
  return times.sort((a, b) => a - b)[2]!;
}

/**
 * The closure of a whole synthetic package set of about `target` paths, round-tripped
 * through JSON like `nix path-info` output (so no string is shared between records), and
 * popularity counted over 300 of its packages' closures.
 */
function wholeSetGraph(target: number): { graph: ClosureGraph; popularity: Popularity } {
  const set = syntheticPackageSet({ packages: Math.round(target / 1.6), seed: target });
  const rand = prng(target);
  const sample = Array.from({ length: 300 }, () => set.packages[Math.floor(rand() * set.packages.length)]!);
  const popularity = popularityFromClosures(sample.map((p) => closureGraph(set, [p]).paths.map((i) => i.path)));
  const graph = JSON.parse(JSON.stringify({ roots: set.packages, paths: [...set.infos.values()] })) as ClosureGraph;
  return { graph, popularity };
}
