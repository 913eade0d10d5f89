import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TESTPKGS } from "./nix.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/** A free loopback TCP port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RunningRegistry {
  /** host:port, as registry clients name it. */
  host: string;
  url: string;
  grpcPort: number;
  dataDir: string;
  logs(): string;
  /** True while the server process runs (a crash ends it). */
  alive(): boolean;
  stop(): Promise<void>;
  /** SIGKILL, as a crash or an OOM kill would: no shutdown code runs. Resolves on exit. */
  kill(): Promise<void>;
}

/**
 * Starts the all-in-one server (`npm start`'s entry) as a child process over nix/testpkgs,
 * with its own data folder and free ports, and waits until it answers /v2/. `wrap` runs it
 * under another program (e.g. a shell that gives it a Nix store of its own first): the
 * server's command line is appended as "$@".
 */
export async function startRegistry(env: NodeJS.ProcessEnv = {}, wrap: string[] = []): Promise<RunningRegistry> {
  const port = await freePort();
  const grpcPort = await freePort();
  const dataDir = env.NIXPORT_DATA ?? mkdtempSync(join(tmpdir(), "nixport-data-"));
  let output = "";
  const command = [process.execPath, "--import", "tsx", join(ROOT, "server/main.ts")];
  const [program, ...args] = [...wrap, ...command] as [string, ...string[]];
  const child: ChildProcess = spawn(program, args, {
    cwd: ROOT,
    // Pulls wait for their build however loaded the machine (the 60 s default would answer a
    // slow cold build 503, which clients do not retry); tests of the pull wait set their own.
    env: { ...process.env, NIXPORT_PKGS_PATH: TESTPKGS, NIXPORT_DATA: dataDir, PORT: String(port), HOST: "127.0.0.1", NIXPORT_GRPC_PORT: String(grpcPort), NIXPORT_PULL_WAIT_SECONDS: "900", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (b) => (output += b));
  child.stderr!.on("data", (b) => (output += b));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`registry exited with ${child.exitCode}:\n${output}`);
    // 401: up, with pull authentication on.
    const ok = await fetch(`${url}/v2/`).then((r) => r.ok || r.status === 401, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`registry did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
    grpcPort,
    dataDir,
    logs: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
      }),
    kill: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}
