/**
 * The Worker (edge/worker/worker.ts) under `wrangler dev`, i.e. inside workerd, offline: a wrangler
 * config of the test's own in a temp folder (no R2 or KV bindings, no account), vars given
 * there, local state persisted in the same folder, a free port on loopback.
 *
 * It serves HTTPS (wrangler's self-signed certificate), as Workers always do. Over plain HTTP
 * every containers/image client (skopeo, podman) first tries TLS, and workerd leaves that
 * handshake hanging until Go's 10 s TLS timeout: 10 s lost per client command.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./registry.ts";

export const ROOT = new URL("../..", import.meta.url).pathname;
export const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");

export interface RunningWorker {
  /** host:port, as registry clients name it. */
  host: string;
  url: string;
  logs(): string;
  stop(): Promise<void>;
}

export interface WorkerOptions {
  /** The Worker's vars (edge/worker/worker.ts WorkerEnv). */
  vars: Record<string, string>;
  startTimeoutMs?: number;
}

/** Process groups still running, ended if the test process exits without calling stop(). */
const live = new Set<number>();
process.once("exit", () => {
  for (const pid of live) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  // The config lives in a folder of its own, so no wrangler.toml of the repository or of a
  // parent folder (with its R2 binding) is picked up, and .wrangler/ lands there too.
  const dir = mkdtempSync(join(tmpdir(), "nixport-workerd-"));
  const config = join(dir, "wrangler.json");
  writeFileSync(
    config,
    JSON.stringify({ name: "nixport-test", main: join(ROOT, "edge/worker/worker.ts"), compatibility_date: "2026-04-20", vars: opts.vars }, null, 2),
  );
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const args = [WRANGLER, "dev", "--config", config, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort)];
  args.push("--local-protocol", "https", "--persist-to", join(dir, "state"), "--show-interactive-dev-session=false", "--log-level", "info");
  let output = "";
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: dir,
    // Its own process group: stop() ends wrangler and the workerd it started, nothing else.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_LOG_PATH: join(dir, "logs"),
      XDG_CONFIG_HOME: join(dir, "config"),
      CI: "true",
    },
  });
  if (child.pid !== undefined) live.add(child.pid);
  child.stdout!.on("data", (b) => (output += b));
  child.stderr!.on("data", (b) => (output += b));
  const stop = async (): Promise<void> => {
    await endGroup(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `https://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`wrangler dev exited with ${child.exitCode}:\n${output}`);
    }
    const ok = await insecureRequest(`${url}/v2/`, { timeoutMs: 2000 }).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not answer /v2/ in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { host: `127.0.0.1:${port}`, url, logs: () => output, stop };
}

/** SIGTERM to the child's process group, SIGKILL after five seconds (and for stragglers). */
async function endGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // the group is gone already
    }
  };
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    signal("SIGTERM");
    const timer = setTimeout(() => signal("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
  // workerd may outlive wrangler by a moment; make sure nothing of the group is left.
  signal("SIGKILL");
  live.delete(pid);
}

export interface InsecureResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * One HTTPS request that accepts the self-signed certificate of `wrangler dev` (and only for
 * this request, unlike NODE_TLS_REJECT_UNAUTHORIZED). Redirects are returned, not followed.
 */
export function insecureRequest(url: string, opts: { method?: string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<InsecureResponse> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: opts.method ?? "GET", headers: opts.headers, rejectUnauthorized: false, timeout: opts.timeoutMs ?? 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${opts.method ?? "GET"} ${url}: no answer in time`)));
    req.on("error", reject);
    req.end();
  });
}
