/**
 * Benchmark suite `write`: layer writing throughput against the command-line tools doing the
 * same work on the same machine, in the same run: `tar | pigz -6 -p 2` and
 * `tar | zstd -3 -T0`. Ours also hashes twice and writes a file; theirs write /dev/null.
 * Input: nix/testpkgs' bigClosure (≈ 600 MiB of real store paths) when Nix can build it,
 * else a deterministic ~600 MB store-like tree (test/bench/write-tree.ts); both are reused.
 * Each side is timed best-of-n, interleaved, so load from elsewhere hurts neither unfairly.
 * The writer runs in a child process, so its peak RSS is its own.
 * Run alone: npx tsx test/bench/write.ts
 */
import { spawn, spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compared } from "./report.ts";
import type { Figure, SuiteContext } from "./report.ts";
import { benchTree } from "./write-tree.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const work = join(repo, ".tmp", "bench-write");

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

function runWriter(storeRoot: string, storePaths: string[], compression: "gzip" | "zstd"): Promise<ChildResult> {
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
 * Real store paths when Nix can build nix/testpkgs' bigClosure (≈ 600 MiB; built once, kept
 * by a GC root under .tmp/bench-write), else the generated tree.
 */
function benchInput(ctx: SuiteContext): Promise<Input> | Input {
  const link = join(work, "bigclosure");
  if (process.env.NIXPORT_BENCH_WRITE_INPUT !== "generated") {
    const build = spawnSync("nix-build", [join(repo, "nix/testpkgs"), "-A", "bigClosure", "--arg", "sizeMB", "600", "--out-link", link], { encoding: "utf8" });
    const closure = build.status === 0 ? spawnSync("nix-store", ["-qR", link], { encoding: "utf8" }) : build;
    if (closure.status === 0) {
      const storePaths = closure.stdout.trim().split("\n").sort();
      return { storeRoot: "/nix/store", storePaths, what: `nix/testpkgs bigClosure, ${storePaths.length} store paths` };
    }
    ctx.note(`no bigClosure (${(build.stderr ?? "").trim().split("\n").pop()}); using the generated tree`);
  }
  return benchTree(work).then((t) => ({ ...t, what: `generated tree, ${t.storePaths.length} store paths` }));
}

/** Best (shortest) of `n` runs: other load on the machine only ever slows a run down. */
async function best<T extends { seconds: number }>(n: number, run: () => Promise<T> | T): Promise<T> {
  let top: T | undefined;
  for (let i = 0; i < n; i++) {
    const r = await run();
    if (!top || r.seconds < top.seconds) top = r;
  }
  return top!;
}

export async function run(ctx: SuiteContext): Promise<Figure[]> {
  const { storeRoot, storePaths, what } = await benchInput(ctx);
  const names = storePaths.map((p) => p.slice("/nix/store/".length)).join(" ");
  const tarCmd = `tar -C '${storeRoot}' -cf - ${names}`;
  const inputBytes = Number(spawnSync("bash", ["-o", "pipefail", "-c", `${tarCmd} | wc -c`], { encoding: "utf8" }).stdout.trim());
  ctx.note(`input: ${what}, ${(inputBytes / 1e6).toFixed(0)} MB of tar`);
  const cores = Math.min(2, availableParallelism());
  const shell = (script: string) => () => ({ seconds: timeShell(script) });
  await best(1, shell(`${tarCmd} > /dev/null`)); // warms the page cache for everyone
  const pigz = await best(2, shell(`${tarCmd} | pigz -6 -p ${cores} > /dev/null`));
  const gz = await best(2, () => runWriter(storeRoot, storePaths, "gzip"));
  const zstd = await best(3, shell(`${tarCmd} | zstd -3 -T0 -q > /dev/null`));
  const zs = await best(3, () => runWriter(storeRoot, storePaths, "zstd"));
  const rate = (r: { seconds: number }) => mbPerSecond(inputBytes, r.seconds);
  const s = "write";
  const gzipVsPigz = Math.round((rate(gz) / rate(pigz)) * 1000) / 1000;
  const zstdVsZstd = Math.round((rate(zs) / rate(zstd)) * 1000) / 1000;
  return [
    { suite: s, name: "write.input_mb", value: Math.round(inputBytes / 1e6), unit: "MB" },
    compared(s, "write.gzip_mb_s", rate(gz), "MB/s", rate(pigz)),
    compared(s, "write.gzip_vs_pigz", gzipVsPigz, "ratio", 1.0),
    compared(s, "write.gzip_size_vs_pigz", gz.size, "bytes", pigzSize(tarCmd)),
    compared(s, "write.zstd_mb_s", rate(zs), "MB/s", rate(zstd)),
    compared(s, "write.zstd_vs_zstd", zstdVsZstd, "ratio", 0.8),
    compared(s, "write.peak_rss_mb", Math.round(Math.max(gz.maxRssMb, zs.maxRssMb)), "MB", 200),
  ];
}

/** Size of pigz's output at the same level: ours must not buy speed with a worse ratio. */
function pigzSize(tarCmd: string): number {
  const r = spawnSync("bash", ["-o", "pipefail", "-c", `${tarCmd} | pigz -6 -p 2 | wc -c`], { encoding: "utf8" });
  return Number(r.stdout.trim());
}

/** The suite under the name the brief gave it. */
export const writeSuite = run;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const f of await run({ note: (m) => console.error(`[write] ${m}`) })) {
    console.log(`${f.name} = ${f.value} ${f.unit}${f.baseline !== undefined ? ` (baseline ${f.baseline}${f.ratio !== undefined ? `, ratio ${f.ratio.toFixed(3)}` : ""})` : ""}`);
  }
}
