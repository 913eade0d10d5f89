/**
 * Load runs for the `serve` suite, always in a process of their own: wrk (C, one thread; what
 * the planning figures were measured with) when installed, else autocannon; HEADs with
 * head-load.ts, since neither tool reads a HEAD answer correctly. Closed loop: each
 * connection keeps one request in flight.
 */
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  method?: "GET" | "HEAD";
  headers?: Record<string, string>;
}

export interface LoadResult {
  rps: number;
  p99Ms: number;
  /** Answers that were not 2xx/3xx, and socket errors and timeouts. */
  errors: number;
  requests: number;
  tool: string;
}

let wrkInstalled: boolean | undefined;
export function hasWrk(): boolean {
  wrkInstalled ??= spawnSync("wrk", ["--version"], { stdio: "ignore" }).error === undefined;
  return wrkInstalled;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (b) => (out += b));
    child.stderr.on("data", (b) => (err += b));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} exited with ${code}: ${err.slice(-500)}`));
    });
  });
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** Reads wrk's summary (run with --latency). */
export function parseWrk(out: string): Omit<LoadResult, "tool"> {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? 0);
  const p99 = /^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p99Ms: p99 ? Number(p99[1]) * UNIT_MS[p99[2]!]! : NaN,
    errors: socketErrors + num(/Non-2xx or 3xx responses: (\d+)/),
    requests: num(/(\d+) requests in/),
  };
}

async function wrk(o: LoadOptions): Promise<LoadResult> {
  const headers = Object.entries(o.headers ?? {}).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
  const out = await run("wrk", ["-t", "1", "-c", String(o.connections), "-d", `${o.seconds}s`, "--latency", ...headers, o.url], (o.seconds + 30) * 1000);
  return { ...parseWrk(out), tool: "wrk" };
}

async function autocannon(o: LoadOptions): Promise<LoadResult> {
  const bin = createRequire(import.meta.url).resolve("autocannon");
  const headers = Object.entries(o.headers ?? {}).flatMap(([k, v]) => ["-H", `${k}=${v}`]);
  const out = await run(process.execPath, [bin, "--json", "-c", String(o.connections), "-d", String(o.seconds), ...headers, o.url], (o.seconds + 30) * 1000);
  const r = JSON.parse(out) as { requests: { average: number; total: number }; latency: { p99: number }; non2xx: number; errors: number; timeouts: number };
  return { rps: r.requests.average, p99Ms: r.latency.p99, errors: r.non2xx + r.errors + r.timeouts, requests: r.requests.total, tool: "autocannon" };
}

async function headLoad(o: LoadOptions): Promise<LoadResult> {
  const script = fileURLToPath(new URL("./head-load.ts", import.meta.url));
  const args = JSON.stringify({ url: o.url, connections: o.connections, seconds: o.seconds, headers: o.headers ?? {} });
  const out = await run(process.execPath, ["--import", "tsx", script, args], (o.seconds + 30) * 1000);
  const r = JSON.parse(out) as { requests: number; seconds: number; errors: number; p99Ms: number };
  return { rps: r.requests / r.seconds, p99Ms: r.p99Ms, errors: r.errors, requests: r.requests, tool: "head-load" };
}

export function load(o: LoadOptions): Promise<LoadResult> {
  if (o.method === "HEAD") return headLoad(o);
  return hasWrk() ? wrk(o) : autocannon(o);
}
