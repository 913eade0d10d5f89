import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../support/registry.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const DOCKER = "application/vnd.docker.distribution.manifest.v2+json";

// The README's two commands on a clone of this repository's HEAD (committed work only), with
// no node_modules: each must install what it needs, then serve or test.
const scratch = mkdtempSync(join(tmpdir(), "nixport-clone-"));
const repo = join(scratch, "nixport");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The environment of a user's shell: none of the outer `npm test`'s npm_* variables. */
function userEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_") && k !== "NIXPORT_TEST_ONLY"));
  return { ...env, ...extra };
}

/**
 * Runs an npm script in the clone as its own process group. `exited` waits for every process
 * holding its output (npm, the shell, node); `stop` signals the group, as a terminal's Ctrl-C
 * does (npm itself does not pass SIGTERM on).
 */
function npm(args: string[], env: NodeJS.ProcessEnv, until?: (out: string) => boolean) {
  const child = spawn("npm", args, { cwd: repo, env: userEnv(env), stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  const seen = new Promise<void>((resolve) => {
    const onData = (b: Buffer) => {
      out += b;
      if (until?.(out)) resolve();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
  });
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return { output: () => out, exited, seen, stop: () => process.kill(-child.pid!, "SIGTERM") };
}

const lockAge = () => statSync(join(repo, "node_modules", ".package-lock.json")).mtimeMs;

describe("a fresh clone", () => {
  it("npm start installs the npm dependencies, checks the host, serves and says what to pull", async () => {
    execFileSync("git", ["clone", "--quiet", ROOT, repo]);
    expect(existsSync(join(repo, "node_modules"))).toBe(false);
    const port = await freePort();
    const env = { PORT: String(port), HOST: "127.0.0.1", NIXPORT_GRPC_PORT: String(await freePort()), NIXPORT_PKGS_PATH: "nix/testpkgs", NIXPORT_DATA: join(scratch, "data") };
    const pull = `podman run --rm --tls-verify=false 127.0.0.1:${port}/hello hello`;
    const start = npm(["start"], env, (out) => out.includes(pull));
    await Promise.race([start.seen, start.exited]);
    expect(start.output()).toContain("installing npm dependencies (npm ci)");
    expect(start.output()).toContain(`the registry is serving on http://127.0.0.1:${port}`);
    expect(start.output()).toContain(pull);
    const res = await fetch(`http://127.0.0.1:${port}/v2/hello/manifests/latest`, { headers: { Accept: DOCKER } });
    expect(res.status, start.output()).toBe(200);
    expect(res.headers.get("Docker-Content-Digest")).toMatch(/^sha256:[a-f0-9]{64}$/);
    start.stop();
    await start.exited;
    expect(start.output()).toContain("shutting down");
    await expect(fetch(`http://127.0.0.1:${port}/v2/`)).rejects.toThrow();

    // A second time nothing is installed again.
    const installed = lockAge();
    const again = npm(["start"], { ...env, NIXPORT_SETUP_ONLY: "1" });
    expect(await again.exited, again.output()).toBe(0);
    expect(again.output()).not.toContain("installing");
    expect(lockAge()).toBe(installed);
  }, 600_000);

  it("npm test reinstalls after package-lock.json changed, sets up the host and runs one test file", async () => {
    // As a pull that changes package-lock.json would leave it: newer than the install.
    utimesSync(join(repo, "package-lock.json"), new Date(), new Date());
    // Any one unit test file: the point is the set-up and the runner around it.
    const file = readdirSync(join(repo, "test/unit")).filter((f) => f.endsWith(".test.ts")).sort()[0]!;
    const args = ["test", "--", `test/unit/${file}`];
    const test = npm(args, { NIXPORT_TEST_ONLY: "node" });
    expect(await test.exited, test.output()).toBe(0);
    expect(test.output()).toContain("package-lock.json changed: reinstalling npm dependencies (npm ci)");
    expect(test.output()).toMatch(/^[1-9]\d* passed, 0 failed$/m);

    const installed = lockAge();
    const again = npm(args, { NIXPORT_TEST_ONLY: "node" });
    expect(await again.exited, again.output()).toBe(0);
    expect(again.output()).not.toContain("installing");
    expect(lockAge()).toBe(installed);
  }, 600_000);
});
