/**
 * CNCF distribution 2.8 (Debian's `docker-registry`) on loopback, as a peer to compare with:
 * filesystem storage in a folder of its own, error-level logging, a free port. Images get in
 * with skopeo (copyImage).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./registry.ts";

export interface RunningDistribution {
  /** host:port, as registry clients name it. */
  host: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

function config(root: string, port: number): string {
  return [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(root, "storage")}`,
    "http:",
    `  addr: 127.0.0.1:${port}`,
    "",
  ].join("\n");
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
  });
}

export async function startDistribution(): Promise<RunningDistribution> {
  const root = mkdtempSync(join(tmpdir(), "nixport-distribution-"));
  const port = await freePort();
  const file = join(root, "config.yml");
  writeFileSync(file, config(root, port));
  let output = "";
  const child = spawn("docker-registry", ["serve", file], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (b) => (output += b));
  child.stderr!.on("data", (b) => (output += b));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopChild(child);
    rmSync(root, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  while (!(await fetch(`${url}/v2/`).then((r) => r.ok, () => false))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not start:\n${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { host: `127.0.0.1:${port}`, url, pid: child.pid!, stop };
}

/** skopeo copy between two plain-HTTP registries on loopback. */
export function copyImage(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = ["copy", "--src-tls-verify=false", "--dest-tls-verify=false", `docker://${from}`, `docker://${to}`];
    const child = spawn("skopeo", args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr!.on("data", (b) => (err += b));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`skopeo copy ${from} → ${to} exited with ${code}: ${err.slice(-1000)}`));
    });
  });
}
