/**
 * Image pairs drawn from nix/testpkgs/synthetic.nix, built for real: `nix-build` of all
 * its packages, then one `nix path-info --json -r` for the graph. Skipped, with a note,
 * when Nix or the package set is not there.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { storePathName } from "../../builder/nix/graph.ts";
import { parsePathInfo } from "../../builder/nix/pathinfo.ts";
import { run } from "../../builder/nix/run.ts";
import type { SuiteContext } from "./report.ts";
import type { ShapedSet } from "./shapes.ts";
import { workloadFromSet } from "./workload.ts";
import type { Workload } from "./workload.ts";

const SYNTHETIC_NIX = fileURLToPath(new URL("../../nix/testpkgs/synthetic.nix", import.meta.url));

export async function testpkgsWorkload(ctx: SuiteContext, pairsPerKind: number): Promise<Workload | null> {
  if (!existsSync(SYNTHETIC_NIX)) {
    ctx.note("skipping nix/testpkgs images: nix/testpkgs/synthetic.nix does not exist");
    return null;
  }
  const built = await run("nix-build", ["--no-out-link", SYNTHETIC_NIX], { timeoutMs: 180_000 }).catch((e: Error) => e);
  if (built instanceof Error || built.code !== 0) {
    ctx.note(`skipping nix/testpkgs images: nix-build failed: ${built instanceof Error ? built.message : built.stderrTail.slice(-300)}`);
    return null;
  }
  const outputs = built.stdout.split("\n").filter((l) => l.startsWith("/"));
  const info = await run("nix", ["--extra-experimental-features", "nix-command", "path-info", "--json", "--recursive", "--", ...outputs], { timeoutMs: 60_000 });
  if (info.code !== 0) {
    ctx.note(`skipping nix/testpkgs images: nix path-info failed: ${info.stderrTail.slice(-300)}`);
    return null;
  }
  const paths = parsePathInfo(JSON.parse(info.stdout));
  // Packages in name order (pkg0000, pkg0001, …): later ones build on earlier ones.
  const packages = [...outputs].sort((a, b) => (storePathName(a) < storePathName(b) ? -1 : 1));
  const set: ShapedSet = { infos: new Map(paths.map((p) => [p.path, p])), packages, apps: packages.slice(Math.floor(packages.length / 3)), language: [] };
  return workloadFromSet("testpkgs", set, pairsPerKind, 7);
}
