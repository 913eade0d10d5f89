/**
 * Benchmark suite `pull`: a cold pull of a ≥ 200 MB image through the all-in-one server with
 * a real client (skopeo copy to a dir: image), against the floor measured in the same run on
 * an equally sized closure Nix has not built either: `nix-build` of the same packages, then
 * `tar -c <closure> | pigz -6 > /dev/null`. Both closures are nix/testpkgs bigClosures with
 * seeds of this run, so Nix really builds them and no store holds their layers.
 * Also a warm pull: a cached manifest GET plus a HEAD of every blob (median of several), and
 * where the cold pull's time goes, from the builder's phase timings in its "build done" log
 * line. Tiny mode: a 16 MiB image, one round. Run alone: npm run bench -- pull
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fixturePkgs, runSeed } from "../support/fixture-pkgs.ts";
import { startRegistry, type RunningRegistry } from "../support/registry.ts";
import { compared, figure } from "./report.ts";
import type { Figure, SuiteContext } from "./report.ts";
import { benchDir } from "./scratch.ts";

const FULL = { image: { name: "image", sizeMB: 256, parts: 8 }, warmRuns: 9, rounds: 2 };
const TINY = { image: { name: "image", sizeMB: 16, parts: 2 }, warmRuns: 2, rounds: 1 };
type Sizes = typeof FULL;
const DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json";

/** Runs a command, throws when it fails; returns its stdout and wall seconds. */
function timed(cmd: string, args: string[]): { stdout: string; seconds: number } {
  const start = performance.now();
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  const seconds = (performance.now() - start) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return { stdout: r.stdout, seconds };
}

/** Where one run's files go: fixture package sets, server data, copies, GC roots. */
interface Run {
  ctx: SuiteContext;
  sizes: Sizes;
  work: string;
  roots: string;
}

/** The floor: Nix builds the closure, then tar | pigz -6 compresses all of it once. */
function floor({ ctx, sizes, work, roots }: Run): number {
  const pkgs = fixturePkgs({ seed: runSeed(), big: [sizes.image], parent: work });
  const build = timed("nix-build", [pkgs.dir, "-A", sizes.image.name, "--out-link", join(roots, `floor-${pkgs.seed}`)]);
  const closure = timed("nix", ["--extra-experimental-features", "nix-command", "path-info", "-r", build.stdout.trim()]);
  const names = closure.stdout.trim().split("\n").map((p) => p.slice("/nix/store/".length));
  const cores = Math.min(2, availableParallelism());
  const tar = timed("bash", ["-o", "pipefail", "-c", `tar -C /nix/store -cf - ${names.join(" ")} | pigz -6 -p ${cores} > /dev/null`]);
  ctx.note(`floor: nix-build ${build.seconds.toFixed(2)} s, path-info ${closure.seconds.toFixed(2)} s, tar|pigz ${tar.seconds.toFixed(2)} s (${names.length} paths)`);
  return build.seconds + closure.seconds + tar.seconds;
}

/** The builder's account of one build: its "build done" log line. */
interface BuildLog {
  ms: number;
  phases: Partial<Record<string, number>>;
  uploadMs: number;
}

interface Cold {
  seconds: number;
  build: BuildLog;
  registry: RunningRegistry;
}

/** Ours: a fresh server with an empty store; skopeo copies the never-built image out of it. */
async function coldRound({ ctx, sizes, work }: Run): Promise<Cold> {
  const pkgs = fixturePkgs({ seed: runSeed(), big: [sizes.image], parent: work });
  // skopeo does not retry a 503: let the pull wait for the whole build, however loaded the machine.
  const registry = await startRegistry({ NIXPORT_PKGS_PATH: pkgs.dir, NIXPORT_DATA: mkdtempSync(join(work, "data-")), NIXPORT_PULL_WAIT_SECONDS: "1800" });
  const dest = mkdtempSync(join(work, "copy-"));
  try {
    const copy = timed("skopeo", ["copy", "--quiet", "--src-tls-verify=false", `docker://${registry.host}/${sizes.image.name}:latest`, `dir:${dest}`]);
    const build = await buildLog(registry);
    ctx.note(`ours: ${copy.seconds.toFixed(2)} s; build ${build.ms} ms ${JSON.stringify(build.phases)}, uploads ${build.uploadMs} ms (overlapping)`);
    return { seconds: copy.seconds, build, registry };
  } catch (err) {
    await registry.stop();
    throw err;
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
}

/** The server's "build done" line; spawnSync held the event loop, so its logs may lag a little. */
async function buildLog(registry: RunningRegistry): Promise<BuildLog> {
  for (let i = 0; i < 300; i++) {
    const done = registry.logs().split("\n").find((l) => l.includes('"msg":"build done"'));
    if (done) return checkedBuildLog(JSON.parse(done) as BuildLog);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the server logged no \"build done\" line for the cold pull");
}

/** The timings this suite reports must be there: a builder that stops logging them fails it. */
function checkedBuildLog(log: BuildLog): BuildLog {
  const missing = ["resolving_source", "realising", "planning", "writing_layers", "writing_manifest"].filter((p) => typeof log.phases?.[p] !== "number");
  if (typeof log.uploadMs !== "number") missing.push("uploadMs");
  if (missing.length > 0) throw new Error(`the builder's "build done" line lacks timings: ${missing.join(", ")}`);
  return log;
}

/** A cached pull as a client's first round trips: manifest by tag, then a HEAD of every blob. */
async function warmPullMs(registry: RunningRegistry, name: string): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${registry.url}/v2/${name}/manifests/latest`, { headers: { accept: DOCKER_V2 } });
  if (res.status !== 200) throw new Error(`warm manifest GET answered ${res.status}`);
  const m = (await res.json()) as { config: { digest: string }; layers: { digest: string }[] };
  await Promise.all(
    [m.config, ...m.layers].map(async (d) => {
      const head = await fetch(`${registry.url}/v2/${name}/blobs/${d.digest}`, { method: "HEAD" });
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

/**
 * Where the cold pull's time goes, each part's share of the whole (ratio = part ÷ cold
 * pull). Uploads overlap the writing of later layers, so they are also inside `writing`.
 */
function whereTimeGoes(cold: Cold): Figure[] {
  const p = cold.build.phases;
  const s = (ms: number | undefined) => round((ms ?? 0) / 1000, 3);
  const parts: [string, number, string][] = [
    ["resolving", s((p.resolving_source ?? 0) + (p.checking_names ?? 0)), "resolving the source and checking names"],
    ["realising", s(p.realising), "realising (Nix builds the closure)"],
    ["planning", s(p.planning), "planning layers"],
    ["writing", s(p.writing_layers), "writing layers (tar, compress, hash)"],
    ["uploading", s(cold.build.uploadMs), "uploading layers (overlaps writing)"],
    ["manifest", s(p.writing_manifest), "config, manifests, records"],
    ["client", round(cold.seconds - cold.build.ms / 1000, 3), "the client's side (requests, blob downloads)"],
  ];
  const total = round(cold.seconds, 2);
  return parts.map(([name, seconds, label]) => compared("pull", `pull.cold.${name}_s`, seconds, "s", total, { label: `cold pull: ${label}`, reference: "the whole cold pull" }));
}

export async function run(ctx: SuiteContext): Promise<Figure[]> {
  const sizes = ctx.tiny ? TINY : FULL;
  const work = benchDir("pull");
  rmSync(work, { recursive: true, force: true });
  const r: Run = { ctx, sizes, work: benchDir("pull"), roots: benchDir("pull/roots") };
  const registries: RunningRegistry[] = [];
  try {
    // Rounds alternate floor and ours, each on closures of its own; the best of each counts,
    // since load from elsewhere on the machine only ever slows a run down.
    const floors: number[] = [];
    const colds: Cold[] = [];
    for (let i = 0; i < sizes.rounds; i++) {
      floors.push(floor(r));
      const cold = await coldRound(r);
      registries.push(cold.registry);
      colds.push(cold);
    }
    const floorS = round(Math.min(...floors), 2);
    const best = colds.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const warm: number[] = [];
    for (let i = 0; i < sizes.warmRuns; i++) warm.push(await warmPullMs(registries[0]!, sizes.image.name));
    const s = "pull";
    const mb = sizes.image.sizeMB;
    return [
      compared(s, "pull.cold_s", round(best.seconds, 2), "s", floorS, {
        target: { of: "ratio", max: 1.2 },
        label: `cold pull of a never-built ${mb} MiB image (skopeo copy)`,
        reference: "`nix-build` + `tar | pigz -6`",
      }),
      ...whereTimeGoes(best),
      figure(s, "pull.warm_ms", round(median(warm), 1), "ms", { label: "warm pull (cached manifest + every blob HEAD)" }),
    ];
  } finally {
    await Promise.all(registries.map((x) => x.stop()));
    // The closures stay in /nix/store until a GC; only their roots (and our files) go.
    rmSync(work, { recursive: true, force: true });
  }
}
