import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command (arguments as data) and collects its output; never throws on exit codes. */
export function exec(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 300_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** podman with its own storage and the settings that work on these hosts (runc, cgroupfs). */
export function podman() {
  // A short name: podman refuses a run root over 50 characters, and npm test's scratch
  // folder already takes 24 of them under /tmp.
  const dir = mkdtempSync(join(tmpdir(), "pm-"));
  const conf = join(dir, "containers.conf");
  writeFileSync(
    conf,
    `[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n`,
  );
  const base = ["--root", join(dir, "root"), "--runroot", join(dir, "run"), "--storage-driver", "vfs"];
  return (args: string[]) => exec("podman", [...base, ...args], { env: { CONTAINERS_CONF: conf } });
}

export function skopeo(args: string[]): Promise<Result> {
  return exec("skopeo", args);
}

export interface Containerd {
  ctr(args: string[]): Promise<Result>;
  stop(): Promise<void>;
}

/** A private containerd daemon (no systemd), with its own root, state and socket. */
export async function startContainerd(): Promise<Containerd> {
  const dir = mkdtempSync(join(tmpdir(), "nixport-containerd-"));
  const sock = join(dir, "containerd.sock");
  const config = join(dir, "config.toml");
  writeFileSync(
    config,
    `version = 2\nroot = "${dir}/root"\nstate = "${dir}/state"\n[grpc]\n  address = "${sock}"\n[ttrpc]\n  address = "${sock}.ttrpc"\n[debug]\n  level = "warn"\n`,
  );
  let logs = "";
  const daemon: ChildProcess = spawn("containerd", ["--config", config], { stdio: ["ignore", "pipe", "pipe"] });
  daemon.stdout!.on("data", (b) => (logs += b));
  daemon.stderr!.on("data", (b) => (logs += b));
  const deadline = Date.now() + 20_000;
  while (!existsSync(sock)) {
    if (daemon.exitCode !== null || Date.now() > deadline) throw new Error(`containerd did not start:\n${logs}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    ctr: (args) => exec("ctr", ["--address", sock, ...args]),
    stop: () =>
      new Promise<void>((resolve) => {
        if (daemon.exitCode !== null) return resolve();
        daemon.once("exit", () => resolve());
        daemon.kill("SIGTERM");
      }),
  };
}
