import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { exec, type Result } from "./clients.ts";

export interface Dockerd {
  /** The docker CLI against this daemon only (its own socket and CLI config). */
  docker(args: string[], timeoutMs?: number): Promise<Result>;
  logs(): string;
  /** Stops the daemon and removes everything it made: processes, mounts, folders. */
  stop(): Promise<void>;
}

/**
 * A private Docker engine (Debian's docker.io): its own socket, data-root, exec-root and
 * config under one temp folder; stop() leaves nothing behind on the host.
 * - `--iptables=false --ip6tables=false --ip-forward=false --bridge=none`: no docker0 bridge,
 *   no NAT/filter rules, no sysctl; containers run with `--network none`, pulls use the
 *   host's loopback.
 * - `--config-file`: ignore any /etc/docker/daemon.json; ours moves the trust key
 *   (`deprecated-key-path`, no flag for it) out of /etc/docker/key.json.
 * - containerd: dockerd starts its own under exec-root, unless a system containerd's
 *   /run/containerd/containerd.sock exists: then it uses that one, so its containers go in
 *   namespaces of their own. Containers get a cgroup parent of their own too.
 * - storage driver and cgroup driver are dockerd's defaults: overlay2 where the kernel
 *   allows it (else it falls back by itself), cgroupfs without systemd. Containers inherit
 *   dockerd's rlimits, so unlike podman no ulimits need lowering.
 * 127.0.0.0/8 registries are insecure (plain HTTP) by default.
 */
export async function startDockerd(): Promise<Dockerd> {
  const dir = mkdtempSync(join(tmpdir(), "nixport-docker-"));
  const sock = join(dir, "docker.sock");
  const execRoot = join(dir, "exec");
  const config = join(dir, "daemon.json");
  const cliConfig = join(dir, "cli");
  // One name for this daemon's cgroup parent and containerd namespaces.
  const name = basename(dir);
  mkdirSync(cliConfig);
  writeFileSync(config, JSON.stringify({ "deprecated-key-path": join(dir, "key.json") }));
  // dockerd, containerd, runc and docker-init live in sbin folders a test's PATH may lack.
  const path = `${process.env.PATH ?? ""}:/usr/sbin:/sbin:/usr/bin:/bin`;
  const args = [
    "--config-file", config,
    "-H", `unix://${sock}`,
    "--data-root", join(dir, "data"),
    "--exec-root", execRoot,
    "--pidfile", join(dir, "docker.pid"),
    "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--bridge=none",
    "--cgroup-parent", `/${name}`,
    "--containerd-namespace", name, "--containerd-plugins-namespace", `${name}-plugins`,
  ];
  let logs = "";
  const daemon: ChildProcess = spawn("dockerd", args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PATH: path } });
  daemon.stdout!.on("data", (b) => (logs += b));
  daemon.stderr!.on("data", (b) => (logs += b));
  const spawnError = await new Promise<Error | undefined>((resolve) => {
    daemon.once("spawn", () => resolve(undefined));
    daemon.once("error", resolve);
  });

  // -H wins over any DOCKER_HOST or context; DOCKER_CONFIG keeps the user's CLI config out.
  const docker = (cmd: string[], timeoutMs?: number) => exec("docker", ["-H", `unix://${sock}`, ...cmd], { env: { DOCKER_CONFIG: cliConfig, PATH: path }, timeoutMs });
  const stop = () => stopDockerd(daemon, docker, dir, execRoot, name);

  const deadline = Date.now() + 30_000;
  let last: Result | undefined;
  for (;;) {
    if (!alive(daemon) || Date.now() > deadline) {
      await stop();
      const why = daemon.pid === undefined
        ? `could not run dockerd (${spawnError?.message}; on Debian: apt-get install docker.io)`
        : daemon.exitCode !== null || daemon.signalCode !== null
          ? `dockerd exited (${daemon.exitCode ?? daemon.signalCode})`
          : "dockerd did not answer `docker version` within 30 s";
      throw new Error(`${why}\ndocker version: ${last?.stderr ?? ""}\ndockerd log:\n${logs}`);
    }
    if (existsSync(sock)) {
      last = await docker(["version", "--format", "{{.Server.Version}}"], 5_000);
      if (last.code === 0) break;
    }
    await sleep(100);
  }
  return { docker, logs: () => logs, stop };
}

const alive = (p: ChildProcess) => p.pid !== undefined && p.exitCode === null && p.signalCode === null;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function exited(p: ChildProcess, ms: number): Promise<boolean> {
  if (!alive(p)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    p.once("exit", () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

async function stopDockerd(daemon: ChildProcess, docker: Dockerd["docker"], dir: string, execRoot: string, name: string): Promise<void> {
  if (alive(daemon)) {
    // Containers a test left running would hold SIGTERM up for their 10 s stop timeout.
    const left = await docker(["ps", "-aq"], 10_000);
    const ids = left.code === 0 ? left.stdout.split("\n").filter(Boolean) : [];
    if (ids.length) await docker(["rm", "-f", ...ids], 20_000);
    // SIGTERM: dockerd stops its containerd and unmounts what it mounted.
    daemon.kill("SIGTERM");
    if (!(await exited(daemon, 20_000))) {
      daemon.kill("SIGKILL");
      await exited(daemon, 5_000);
    }
  }
  // A dockerd that died (or was killed) leaves containers, their shims and its containerd
  // running: remove the containers with runc, then end every process that names our folder.
  const runcRoot = join(execRoot, "runtime-runc", name);
  if (existsSync(runcRoot)) {
    const list = await exec("runc", ["--root", runcRoot, "list", "-q"]);
    for (const id of list.stdout.split("\n").filter(Boolean)) await exec("runc", ["--root", runcRoot, "delete", "--force", id]);
  }
  for (let i = 0; i < 50; i++) {
    const pids = processesNaming(dir);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    await sleep(100);
  }
  // Killed shims leave their sockets in containerd's fixed /run/containerd/s.
  for (const socket of shimSockets(execRoot)) rmSync(socket, { force: true });
  // What is still mounted below our folder (data-root's own bind mount, overlay layers,
  // network namespaces), deepest first; then the containers' cgroups; then the folder.
  for (const m of mountsUnder(dir)) {
    const r = await exec("umount", [m]);
    if (r.code !== 0) await exec("umount", ["-l", m]);
  }
  for (const root of cgroupRoots()) removeCgroup(join(root, name));
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** Live processes whose command line names `dir` (our containerd and its shims). */
function processesNaming(dir: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8");
      const state = readFileSync(`/proc/${name}/stat`, "utf8").split(") ")[1]?.[0];
      if (cmdline.includes(`${dir}/`) && state !== "Z") out.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** The sockets of the shims our containerd started (each task folder records its address). */
function shimSockets(execRoot: string): string[] {
  const tasks = join(execRoot, "containerd", "daemon", "io.containerd.runtime.v2.task");
  if (!existsSync(tasks)) return [];
  const out: string[] = [];
  for (const ns of readdirSync(tasks)) {
    for (const id of readdirSync(join(tasks, ns))) {
      try {
        const address = readFileSync(join(tasks, ns, id, "address"), "utf8").trim();
        if (address.startsWith("unix:///run/containerd/s/")) out.push(address.slice("unix://".length));
      } catch {
        // no address: the shim never started
      }
    }
  }
  return out;
}

/** Mount points, unescaped (mountinfo writes blanks as \040), with their filesystem type. */
function mounts(): { point: string; type: string }[] {
  const unescape = (p: string) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const fields = line.split(" ");
      return { point: unescape(fields[4] ?? ""), type: fields[fields.indexOf("-") + 1] ?? "" };
    });
}

/** Mount points at or below `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  const points = mounts().map((m) => m.point).filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

function cgroupRoots(): string[] {
  return mounts().filter((m) => m.type === "cgroup" || m.type === "cgroup2").map((m) => m.point);
}

/** rmdir a cgroup and its children (a cgroup folder's files go with it; rm -r would fail). */
function removeCgroup(path: string): void {
  if (!existsSync(path)) return;
  for (const e of readdirSync(path, { withFileTypes: true })) if (e.isDirectory()) removeCgroup(join(path, e.name));
  try {
    rmdirSync(path);
  } catch {
    // still busy: leave it rather than fail the test run
  }
}
