/**
 * A real S3 API on loopback for integration tests: an all-in-one OpenStack Swift (Debian's
 * swift, swift-proxy, swift-account, swift-container, swift-object) with the s3api and
 * tempauth middleware. It verifies SigV4 like AWS does (wrong secret → 403, expired URL → 403).
 *
 * Each instance lives in a temp folder of its own with free ports, so several test files can
 * start one at the same time. stop() ends exactly the processes it started and removes the
 * folder.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";

export interface SwiftS3 {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Milliseconds from the start (rings, configs, servers) to the bucket being created. */
  startMs: number;
  /** The instance's folder (configs, rings, data, logs) and its servers' PIDs. */
  dir: string;
  pids: number[];
  stop(): Promise<void>;
}

export interface SwiftOptions {
  bucket?: string;
  /** How long to wait for every server to answer /healthcheck. */
  readyTimeoutMs?: number;
}

// Debian's swift is a python3 package of the system interpreter; a python3 earlier on PATH
// (pyenv, a venv) cannot import it.
const PYTHON = "/usr/bin/python3";
const KINDS = ["account", "container", "object", "proxy"] as const;
type Kind = (typeof KINDS)[number];
const REGION = "us-east-1";
const ACCESS_KEY_ID = "test:tester";
const SECRET = "testing";
/**
 * Without /dev/log (containers, CI), Swift falls back to syslog over UDP to "localhost"; an
 * IP keeps every log record independent of name resolution on a machine without DNS.
 */
const SYSLOG = "log_udp_host = 127.0.0.1";
/** Raise to INFO or DEBUG to see every request in the servers' logs. */
const LOG_LEVEL = process.env.NIXPORT_SWIFT_LOG_LEVEL ?? "WARNING";

/** Children still running, ended if the test process exits without calling stop(). */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
});

export async function startSwift(options: SwiftOptions = {}): Promise<SwiftS3> {
  // Free ports are only free until someone binds them: a clash with another process
  // starting at the same moment gets a fresh set of ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      if (!(err instanceof PortClash) || attempt >= 3) throw err;
    }
  }
}

class PortClash extends Error {}

async function startOnce(options: SwiftOptions): Promise<SwiftS3> {
  const bucket = options.bucket ?? "nixport-test";
  const dir = mkdtempSync(join(tmpdir(), "nixport-swift-"));
  const children: ChildProcess[] = [];
  let watchdog: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    // The watchdog goes first, so it never signals PIDs that were already reused.
    watchdog?.kill("SIGKILL");
    await Promise.all(children.map(endChild));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const t0 = performance.now();
    const ports = await freePorts(KINDS.length);
    const port = (kind: Kind): number => ports[KINDS.indexOf(kind)] as number;
    writeConfigs(dir, port);
    for (const kind of KINDS) children.push(startServer(dir, kind));
    watchdog = startWatchdog(children, dir);
    await waitReady(dir, children, port, options.readyTimeoutMs ?? 90_000);
    const endpoint = `http://127.0.0.1:${port("proxy")}`;
    await createBucket(endpoint, bucket);
    const startMs = Math.round(performance.now() - t0);
    const pids = children.map((c) => c.pid as number);
    return { endpoint, region: REGION, bucket, accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET, startMs, dir, pids, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * A detached shell holding a pipe from this process: when the pipe closes (this process
 * ended in any way, even SIGKILL), it ends exactly these servers and removes the folder.
 */
function startWatchdog(children: ChildProcess[], dir: string): ChildProcess {
  const pids = children.map((c) => String(c.pid));
  const script = 'read _; kill -TERM "$@" 2>/dev/null; sleep 2; kill -KILL "$@" 2>/dev/null; rm -rf "$SWIFT_TEST_DIR"';
  const dog = spawn("/bin/sh", ["-c", script, "swift-watchdog", ...pids], {
    stdio: ["pipe", "ignore", "ignore"],
    detached: true,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", SWIFT_TEST_DIR: dir },
  });
  dog.unref();
  (dog.stdin as unknown as Socket | null)?.unref();
  return dog;
}

/** Ports nobody listens on right now; all held open together so an instance gets distinct ones. */
async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", resolve);
      });
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

function writeConfigs(dir: string, port: (kind: Kind) => number): void {
  const swiftDir = join(dir, "etc");
  const devices = join(dir, "srv");
  mkdirSync(swiftDir);
  mkdirSync(join(devices, "d1"), { recursive: true });
  // Our own swift.conf (found through swift_dir), so /etc/swift is never read.
  writeFileSync(
    join(swiftDir, "swift.conf"),
    "[swift-hash]\nswift_hash_path_suffix = nixport-test\n\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n",
  );
  buildRings(swiftDir, port);
  for (const kind of ["account", "container", "object"] as const) {
    writeFileSync(join(swiftDir, `${kind}-server.conf`), backendConfig(kind, port(kind), swiftDir, devices));
  }
  writeFileSync(join(swiftDir, "proxy-server.conf"), proxyConfig(port("proxy"), swiftDir));
}

/**
 * One ring per server kind, one device each: what `swift-ring-builder X.builder create 6 1 1`,
 * `add r1z1-127.0.0.1:PORT/d1 1` and `rebalance` write, done through the same library in one
 * interpreter (nine separate swift-ring-builder runs took 2.5 s).
 */
const BUILD_RINGS = `
import sys
from swift.common.ring import RingBuilder
swift_dir = sys.argv[1]
for arg in sys.argv[2:]:
    kind, port = arg.split("=")
    builder = RingBuilder(6, 1, 1)
    builder.add_dev({"region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port), "device": "d1", "weight": 1})
    builder.rebalance()
    builder.save(f"{swift_dir}/{kind}.builder")
    builder.get_ring().save(f"{swift_dir}/{kind}.ring.gz")
`;

function buildRings(swiftDir: string, port: (kind: Kind) => number): void {
  const kinds = (["account", "container", "object"] as const).map((kind) => `${kind}=${port(kind)}`);
  const r = spawnSync(PYTHON, ["-c", BUILD_RINGS, swiftDir, ...kinds], { encoding: "utf8" });
  if (r.error || r.status !== 0) throw new Error(`building Swift rings failed: ${r.error ?? ""}${r.stdout}${r.stderr}`);
}

function backendConfig(kind: string, port: number, swiftDir: string, devices: string): string {
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
devices = ${devices}
mount_check = false
swift_dir = ${swiftDir}
workers = 0
log_level = ${LOG_LEVEL}
${SYSLOG}

[pipeline:main]
pipeline = healthcheck ${kind}-server

[app:${kind}-server]
use = egg:swift#${kind}

[filter:healthcheck]
use = egg:swift#healthcheck
`;
}

// Proxy filters: section name → Swift's entry point. s3api speaks S3 and checks SigV4;
// tempauth holds the one test user; without slo, multipart uploads answer NotImplemented.
const PROXY_FILTERS: Record<string, string> = {
  healthcheck: "healthcheck",
  catch_errors: "catch_errors",
  "proxy-logging": "proxy_logging",
  cache: "memcache",
  s3api: `s3api\nlocation = ${REGION}`,
  tempauth: `tempauth\nuser_test_tester = ${SECRET} .admin`,
  copy: "copy",
  slo: "slo",
  dlo: "dlo",
};

function proxyConfig(port: number, swiftDir: string): string {
  const filters = Object.entries(PROXY_FILTERS).map(([name, egg]) => `[filter:${name}]\nuse = egg:swift#${egg}\n`);
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
swift_dir = ${swiftDir}
workers = 0
log_level = ${LOG_LEVEL}
${SYSLOG}

[pipeline:main]
pipeline = healthcheck catch_errors proxy-logging cache s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

${filters.join("\n")}`;
}

function startServer(dir: string, kind: Kind): ChildProcess {
  const conf = join(dir, "etc", `${kind}-server.conf`);
  // The log file itself is the child's stdout and stderr: nothing in this process has to keep
  // draining a pipe (a full pipe would block the server mid-request), and the log outlives us.
  const log = openSync(join(dir, `${kind}.log`), "a");
  try {
    // -v logs to the console (the log file) as well as to syslog.
    const child = spawn(PYTHON, [`/usr/bin/swift-${kind}-server`, conf, "-v"], { stdio: ["ignore", log, log] });
    live.add(child);
    child.once("exit", () => live.delete(child));
    return child;
  } finally {
    closeSync(log);
  }
}

async function waitReady(dir: string, children: ChildProcess[], port: (kind: Kind) => number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set<Kind>(KINDS);
  while (pending.size > 0) {
    const dead = children.find((c) => c.exitCode !== null || c.signalCode !== null);
    if (dead) {
      const text = logs(dir);
      if (/Address already in use/i.test(text)) throw new PortClash(text);
      throw new Error(`a Swift server exited during start-up\n${text}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`Swift not ready after ${timeoutMs} ms (waiting for ${[...pending].join(", ")})\n${logs(dir)}`);
    }
    for (const kind of [...pending]) if (await healthy(port(kind))) pending.delete(kind);
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 100));
  }
}

async function healthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthcheck`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

function logs(dir: string): string {
  return KINDS.map((kind) => {
    let text = "";
    try {
      text = readFileSync(join(dir, `${kind}.log`), "utf8");
    } catch {
      text = "(no log)";
    }
    return `--- ${kind} server log ---\n${text.slice(-4000)}`;
  }).join("\n");
}

async function createBucket(endpoint: string, bucket: string): Promise<void> {
  const client = new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET },
  });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
}

/** SIGTERM, then SIGKILL if the child has not exited within two seconds. */
async function endChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
  await exited;
  clearTimeout(timer);
}
