/**
 * Benchmark suite `pull`: a cold pull of a ≥ 200 MB image through the all-in-one server with
 * a real client (skopeo copy to a dir: image), against the floor measured in the same run on
 * an equally sized closure Nix has not built either: `nix-build` of the same packages, then
 * `tar -c <closure> | pigz -6 > /dev/null`. Both closures are nix/testpkgs bigClosures with
 * seeds of this run, so Nix really builds them and no store holds their layers.
 * Also a warm pull: a cached manifest GET plus a HEAD of every blob (median of several).
 * Run alone: npx tsx test/bench/pull.ts
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fixturePkgs, runSeed } from "../support/fixture-pkgs.ts";
import { startRegistry, type RunningRegistry } from "../support/registry.ts";
import { compared } from "./report.ts";
import type { Figure, SuiteContext } from "./report.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const work = join(repo, ".tmp", "bench-pull");
const IMAGE = { name: "image", sizeMB: 256, parts: 8 };
const WARM_RUNS = 9;
const ROUNDS = 2;
const DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json";

/** Runs a command, throws when it fails; returns its stdout and wall seconds. */
function timed(cmd: string, args: string[]): { stdout: string; seconds: number } {
  const start = performance.now();
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  const seconds = (performance.now() - start) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return { stdout: r.stdout, seconds };
}

/** The floor: Nix builds the closure, then tar | pigz -6 compresses all of it once. */
function floor(ctx: SuiteContext, roots: string): number {
  const pkgs = fixturePkgs({ seed: runSeed(), big: [IMAGE], parent: work });
  const build = timed("nix-build", [pkgs.dir, "-A", IMAGE.name, "--out-link", join(roots, `floor-${pkgs.seed}`)]);
  const closure = timed("nix", ["--extra-experimental-features", "nix-command", "path-info", "-r", build.stdout.trim()]);
  const names = closure.stdout.trim().split("\n").map((p) => p.slice("/nix/store/".length));
  const cores = Math.min(2, availableParallelism());
  const tar = timed("bash", ["-o", "pipefail", "-c", `tar -C /nix/store -cf - ${names.join(" ")} | pigz -6 -p ${cores} > /dev/null`]);
  ctx.note(`floor: nix-build ${build.seconds.toFixed(2)} s, path-info ${closure.seconds.toFixed(2)} s, tar|pigz ${tar.seconds.toFixed(2)} s (${names.length} paths)`);
  return build.seconds + closure.seconds + tar.seconds;
}

/** Ours: skopeo copies the never-built image out of a server with an empty store. */
async function coldPull(ctx: SuiteContext, registry: RunningRegistry): Promise<number> {
  const dest = mkdtempSync(join(work, "copy-"));
  try {
    const copy = timed("skopeo", ["copy", "--quiet", "--src-tls-verify=false", `docker://${registry.host}/${IMAGE.name}:latest`, `dir:${dest}`]);
    // spawnSync held the event loop: let the server's log lines arrive before reading them.
    await new Promise((r) => setTimeout(r, 200));
    const done = registry.logs().split("\n").find((l) => l.includes('"msg":"build done"'));
    const build = done ? (JSON.parse(done) as { ms: number; phases: Record<string, number> }) : undefined;
    if (build) ctx.note(`ours: build ${build.ms} ms ${JSON.stringify(build.phases)}, client side ${Math.round(copy.seconds * 1000 - build.ms)} ms`);
    return copy.seconds;
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
}

/** A cached pull as a client's first round trips: manifest by tag, then a HEAD of every blob. */
async function warmPullMs(registry: RunningRegistry): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${registry.url}/v2/${IMAGE.name}/manifests/latest`, { headers: { accept: DOCKER_V2 } });
  if (res.status !== 200) throw new Error(`warm manifest GET answered ${res.status}`);
  const m = (await res.json()) as { config: { digest: string }; layers: { digest: string }[] };
  await Promise.all(
    [m.config, ...m.layers].map(async (d) => {
      const head = await fetch(`${registry.url}/v2/${IMAGE.name}/blobs/${d.digest}`, { method: "HEAD" });
      if (head.status !== 200) throw new Error(`blob HEAD answered ${head.status}`);
    }),
  );
  return performance.now() - start;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** A fresh server with an empty store over a never-built image; the cold pull through it. */
async function coldRound(ctx: SuiteContext): Promise<{ seconds: number; registry: RunningRegistry }> {
  const pkgs = fixturePkgs({ seed: runSeed(), big: [IMAGE], parent: work });
  const registry = await startRegistry({ NIXPORT_PKGS_PATH: pkgs.dir, NIXPORT_DATA: mkdtempSync(join(work, "data-")) });
  try {
    return { seconds: await coldPull(ctx, registry), registry };
  } catch (err) {
    await registry.stop();
    throw err;
  }
}

export async function run(ctx: SuiteContext): Promise<Figure[]> {
  rmSync(work, { recursive: true, force: true });
  const roots = mkdtempSync(join(repo, ".tmp", "bench-pull-roots-"));
  const registries: RunningRegistry[] = [];
  try {
    // Rounds alternate floor and ours, each on closures of its own; the best of each counts,
    // since load from elsewhere on the machine only ever slows a run down.
    const floors: number[] = [];
    const colds: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      floors.push(floor(ctx, roots));
      const round = await coldRound(ctx);
      registries.push(round.registry);
      colds.push(round.seconds);
    }
    const floorS = Math.min(...floors);
    const coldS = Math.min(...colds);
    const warm: number[] = [];
    for (let i = 0; i < WARM_RUNS; i++) warm.push(await warmPullMs(registries[0]!));
    const s = "pull";
    return [
      compared(s, "pull.cold_s", round(coldS, 2), "s", round(floorS, 2)),
      { suite: s, name: "pull.floor_s", value: round(floorS, 2), unit: "s" },
      compared(s, "pull.cold_vs_floor", round(coldS / floorS, 3), "ratio", 1.2),
      { suite: s, name: "pull.warm_ms", value: round(median(warm), 1), unit: "ms" },
    ];
  } finally {
    await Promise.all(registries.map((r) => r.stop()));
    // The closures stay in /nix/store until a GC; only their roots (and our files) go.
    rmSync(roots, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const f of await run({ note: (m) => console.error(`[pull] ${m}`) })) {
    console.log(`${f.name} = ${f.value} ${f.unit}${f.baseline !== undefined ? ` (baseline ${f.baseline}${f.ratio !== undefined ? `, ratio ${f.ratio.toFixed(3)}` : ""})` : ""}`);
  }
}
