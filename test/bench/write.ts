/**
 * Benchmark suite `write`: layer writing throughput against the command-line tools doing the
 * same work on the same machine, in the same run: `tar | pigz -6 -p 2` and
 * `tar | zstd -3 -T0`. Ours also hashes twice and writes a file; theirs write /dev/null.
 * Input: nix/testpkgs' bigClosure (≈ 600 MiB of real store paths) when Nix can build it,
 * else a deterministic ~600 MB store-like tree (test/bench/write-tree.ts); both are reused.
 * Each side is timed best-of-n, the two taking turns, so load from elsewhere hurts neither unfairly.
 * The writer runs in a child process, so its peak RSS is its own. Tiny mode: an 8 MiB closure,
 * one run of each. Run alone: npm run bench -- write
 */
import { spawn, spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { compared, figure } from "./report.ts";
import type { Figure, SuiteContext } from "./report.ts";
import { benchDir, REPO as repo } from "./scratch.ts";
import { benchTree } from "./write-tree.ts";

/** Wall seconds of a shell pipeline; throws when it fails. */
function timeShell(script: string): number {
  const start = performance.now();
  const r = spawnSync("bash", ["-o", "pipefail", "-c", script], { stdio: ["ignore", "ignore", "inherit"] });
  if (r.status !== 0) throw new Error(`benchmark baseline failed (${r.status}): ${script}`);
  return (performance.now() - start) / 1000;
}

interface ChildResult {
  seconds: number;
  size: number;
  digest: string;
  maxRssMb: number;
}

function runWriter(work: string, storeRoot: string, storePaths: string[], compression: "gzip" | "zstd"): Promise<ChildResult> {
  const args = ["--import", "tsx", join(repo, "test/bench/write-child.ts"), storeRoot, join(work, "out"), compression, ...storePaths];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repo, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`layer writer exited with ${code}`));
      resolve(JSON.parse(out.trim().split("\n").pop()!) as ChildResult);
    });
  });
}

function mbPerSecond(bytes: number, seconds: number): number {
  return Math.round((bytes / 1e6 / seconds) * 10) / 10;
}

interface Input {
  storeRoot: string;
  storePaths: string[];
  what: string;
}

/**
 * Real store paths when Nix can build nix/testpkgs' bigClosure (≈ 600 MiB, tiny: 8 MiB;
 * built once, kept by a GC root in the suite's scratch folder), else the generated tree.
 */
function benchInput(ctx: SuiteContext, work: string): Promise<Input> | Input {
  const sizeMB = ctx.tiny ? 8 : 600;
  const link = join(work, `bigclosure-${sizeMB}`);
  if (process.env.NIXPORT_BENCH_WRITE_INPUT !== "generated") {
    const build = spawnSync("nix-build", [join(repo, "nix/testpkgs"), "-A", "bigClosure", "--arg", "sizeMB", String(sizeMB), "--out-link", link], { encoding: "utf8" });
    const closure = build.status === 0 ? spawnSync("nix-store", ["-qR", link], { encoding: "utf8" }) : build;
    if (closure.status === 0) {
      const storePaths = closure.stdout.trim().split("\n").sort();
      return { storeRoot: "/nix/store", storePaths, what: `nix/testpkgs bigClosure, ${storePaths.length} store paths` };
    }
    ctx.note(`no bigClosure (${(build.stderr ?? "").trim().split("\n").pop()}); using the generated tree`);
  }
  return benchTree(join(work, ctx.tiny ? "tree-tiny" : "tree"), ctx.tiny ? 2 : undefined).then((t) => ({ ...t, what: `generated tree, ${t.storePaths.length} store paths` }));
}

/**
 * The best (shortest) run of each side over `n` rounds, the two sides taking turns within
 * each round: load from elsewhere only ever slows a run down, and turns spread it evenly.
 */
async function bestOfPairs<R extends { seconds: number }, O extends { seconds: number }>(
  ctx: SuiteContext,
  what: string,
  n: number,
  reference: () => Promise<R> | R,
  ours: () => Promise<O> | O,
): Promise<[R, O]> {
  let r: R | undefined;
  let o: O | undefined;
  for (let i = 0; i < n; i++) {
    const a = await reference();
    const b = await ours();
    ctx.note(`${what}, round ${i + 1}: reference ${a.seconds.toFixed(2)} s, ours ${b.seconds.toFixed(2)} s`);
    if (!r || a.seconds < r.seconds) r = a;
    if (!o || b.seconds < o.seconds) o = b;
  }
  return [r!, o!];
}

export async function run(ctx: SuiteContext): Promise<Figure[]> {
  const work = benchDir("write");
  const { storeRoot, storePaths, what } = await benchInput(ctx, work);
  const names = storePaths.map((p) => p.slice("/nix/store/".length)).join(" ");
  const tarCmd = `tar -C '${storeRoot}' -cf - ${names}`;
  const inputBytes = Number(spawnSync("bash", ["-o", "pipefail", "-c", `${tarCmd} | wc -c`], { encoding: "utf8" }).stdout.trim());
  ctx.note(`input: ${what}, ${(inputBytes / 1e6).toFixed(0)} MB of tar`);
  const cores = Math.min(2, availableParallelism());
  const shell = (script: string) => () => ({ seconds: timeShell(script) });
  const runs = (n: number) => (ctx.tiny ? 1 : n);
  timeShell(`${tarCmd} > /dev/null`); // warms the page cache for everyone
  const [pigz, gz] = await bestOfPairs(ctx, "gzip", runs(2), shell(`${tarCmd} | pigz -6 -p ${cores} > /dev/null`), () => runWriter(work, storeRoot, storePaths, "gzip"));
  const [zstd, zs] = await bestOfPairs(ctx, "zstd", runs(3), shell(`${tarCmd} | zstd -3 -T0 -q > /dev/null`), sameBytes(() => runWriter(work, storeRoot, storePaths, "zstd")));
  const rate = (r: { seconds: number }) => mbPerSecond(inputBytes, r.seconds);
  const s = "write";
  return [
    figure(s, "write.input_mb", Math.round(inputBytes / 1e6), "MB"),
    compared(s, "write.gzip_mb_s", rate(gz), "MB/s", rate(pigz), {
      target: { of: "ratio", min: 1.0 },
      label: "gzip layer throughput (tar in)",
      reference: `\`tar | pigz -6 -p ${cores}\``,
    }),
    compared(s, "write.gzip_bytes", gz.size, "bytes", compressedSize(`${tarCmd} | pigz -6 -p ${cores}`), { label: "gzip layer size", reference: "pigz -6" }),
    compared(s, "write.zstd_mb_s", rate(zs), "MB/s", rate(zstd), {
      target: { of: "ratio", min: 0.8 },
      label: "zstd layer throughput (tar in)",
      reference: "`tar | zstd -3 -T0`",
    }),
    compared(s, "write.zstd_bytes", zs.size, "bytes", compressedSize(`${tarCmd} | zstd -3 -T0 -q`), {
      target: { of: "ratio", min: 0.95, max: 1.05 },
      label: "zstd layer size",
      reference: "zstd -3 -T0",
    }),
    figure(s, "write.peak_rss_mb", Math.round(Math.max(gz.maxRssMb, zs.maxRssMb)), "MB", { target: { of: "value", max: 200 }, label: "layer writer peak RSS" }),
  ];
}

/** Size of a command-line pipeline's output: ours must not buy speed with a worse ratio. */
function compressedSize(pipeline: string): number {
  const r = spawnSync("bash", ["-o", "pipefail", "-c", `${pipeline} | wc -c`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`benchmark baseline failed (${r.status}): ${pipeline}`);
  return Number(r.stdout.trim());
}

/** Every run of the writer must give the same layer: speed must not cost determinism. */
function sameBytes(run: () => Promise<ChildResult>): () => Promise<ChildResult> {
  let first: string | undefined;
  return async () => {
    const r = await run();
    first ??= r.digest;
    if (r.digest !== first) throw new Error(`the same input gave two layers: ${first} and ${r.digest}`);
    return r;
  };
}
