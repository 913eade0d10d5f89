import { execFile, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// The host checks of `npm start` and `npm test` (setup/host.mjs, nix/setup-host.sh) against
// the real Nix and dpkg, with a nix.conf of the test's own (NIX_CONF_DIR, which Nix reads too).
const ROOT = new URL("../..", import.meta.url).pathname;
const SETUP_HOST = join(ROOT, "nix/setup-host.sh");
const asRoot = process.getuid?.() === 0;

const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  new Promise<{ code: number; out: string }>((resolve) =>
    execFile(cmd, args, { env: { ...process.env, ...env } }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr })),
  );

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A NIX_CONF_DIR holding `conf`, readable by any user. */
function confDir(conf?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "nixport-nixconf-"));
  dirs.push(dir);
  chmodSync(dir, 0o755);
  if (conf !== undefined) writeFileSync(join(dir, "nix.conf"), conf);
  return dir;
}

/** A copy of the set-up files that nobody can read too (the checkout may be root's alone). */
function readableCopy(): string {
  const dir = confDir();
  for (const file of ["setup/host.mjs", "nix/setup-host.sh", "nix/setup-arm64.sh"]) {
    mkdirSync(dirname(join(dir, file)), { recursive: true, mode: 0o755 });
    copyFileSync(join(ROOT, file), join(dir, file));
    chmodSync(join(dir, file), 0o755);
  }
  return dir;
}
const COPY = readableCopy();
const SETPRIV_NOBODY = ["--reuid=65534", "--regid=65534", "--clear-groups"];
// As nobody only where nobody can reach the copy (a TMPDIR of root's alone hides it).
const nobodyReaches = asRoot && spawnSync("/usr/bin/setpriv", [...SETPRIV_NOBODY, "test", "-r", join(COPY, "setup/host.mjs")]).status === 0;

/** Calls one function of setup/host.mjs in a fresh Node, as root or as nobody; prints what it says or throws. */
function hostCheck(fn: string, arg: string, env: NodeJS.ProcessEnv, user: "root" | "nobody" = "root") {
  const code = `import(${JSON.stringify(join(COPY, "setup/host.mjs"))}).then((m) => m.${fn}(${arg}${arg ? ", " : ""}console.log)).then(() => console.log("ok"), (e) => console.log(e.constructor.name + ": " + e.message))`;
  const node = [process.execPath, "--input-type=module", "-e", code];
  return user === "root" ? run(node[0]!, node.slice(1), env) : run("/usr/bin/setpriv", [...SETPRIV_NOBODY, ...node], { HOME: "/nonexistent", ...env });
}

describe("nix/setup-host.sh", () => {
  it("says what it would change, changes it, and a second time changes nothing", async () => {
    const dir = confDir("substituters = https://cache.nixos.org/\nmax-jobs = 4\n");
    const conf = join(dir, "nix.conf");
    const before = await run(SETUP_HOST, ["--check"], { NIX_CONF_DIR: dir });
    expect(before.code).toBe(1);
    expect(before.out).toContain("set 'substituters =' in nix.conf");
    expect(before.out).toContain("set 'experimental-features = nix-command' in nix.conf");
    expect(readFileSync(conf, "utf8")).toBe("substituters = https://cache.nixos.org/\nmax-jobs = 4\n");

    expect((await run(SETUP_HOST, [], { NIX_CONF_DIR: dir })).code).toBe(0);
    const written = readFileSync(conf, "utf8");
    expect(written).toMatch(/^substituters =$/m);
    expect(written).toMatch(/^max-jobs = 4$/m);
    expect(written).toMatch(/^experimental-features = nix-command$/m);
    expect(await run(SETUP_HOST, ["--check"], { NIX_CONF_DIR: dir })).toEqual({ code: 0, out: "" });

    const mtime = statSync(conf).mtimeMs;
    expect((await run(SETUP_HOST, [], { NIX_CONF_DIR: dir })).code).toBe(0);
    expect(readFileSync(conf, "utf8")).toBe(written);
    expect(statSync(conf).mtimeMs).toBe(mtime);
  });

  // npm test has set arm64 emulation up on this host: only the test's own nix.conf lacks it.
  it("--arm64 also wants Nix's extra-platforms, and checks the emulation npm test set up", async () => {
    const dir = confDir("substituters =\nexperimental-features = nix-command\nsandbox = true\nbuild-users-group =\n");
    const before = await run(SETUP_HOST, ["--check", "--arm64"], { NIX_CONF_DIR: dir });
    expect(before).toEqual({ code: 1, out: "nix/setup-host.sh would: set 'extra-platforms = aarch64-linux' in nix.conf\n" });
    expect((await run(SETUP_HOST, ["--arm64"], { NIX_CONF_DIR: dir })).code).toBe(0);
    expect(readFileSync(join(dir, "nix.conf"), "utf8")).toMatch(/^extra-platforms = aarch64-linux$/m);
    expect(await run(SETUP_HOST, ["--arm64", "--check"], { NIX_CONF_DIR: dir })).toEqual({ code: 0, out: "" });
    expect(await run(SETUP_HOST, ["--amd64"], { NIX_CONF_DIR: dir })).toEqual({ code: 2, out: "usage: nix/setup-host.sh [--check] [--arm64]\n" });
  });
});

describe.skipIf(!asRoot)("the set-up step's host checks", () => {
  it.skipIf(!nobodyReaches)("npm test, not as root, names nix/setup-host.sh when Nix is not configured for the tests", async () => {
    const r = await hostCheck("ensureNixConfigured", "", { NIX_CONF_DIR: confDir() }, "nobody");
    expect(r.out).toMatch(/^SetupError: Nix is not set up for the tests \(nix\/setup-host.sh would: .*set 'substituters ='.*\): run `sudo nix\/setup-host.sh`$/m);
  });

  it("npm test as root is silent when Nix is configured (nothing rewritten)", async () => {
    const dir = confDir();
    await run(SETUP_HOST, [], { NIX_CONF_DIR: dir });
    const mtime = statSync(join(dir, "nix.conf")).mtimeMs;
    expect((await hostCheck("ensureNixConfigured", "", { NIX_CONF_DIR: dir })).out).toBe("ok\n");
    expect(statSync(join(dir, "nix.conf")).mtimeMs).toBe(mtime);
  });

  it("npm start leaves a Nix that is there but cannot build to its owner, saying what to run", async () => {
    const r = await hostCheck("ensureNixUsable", "", { NIX_CONF_DIR: confDir("build-users-group = nixport-no-such-group\n") });
    expect(r.out).toBe("SetupError: Nix's build-users-group 'nixport-no-such-group' does not exist: run `sudo nix/setup-host.sh` (installs and configures Debian's nix-bin)\n");
  });

  it.skipIf(!nobodyReaches)("npm start, not as root, on a host without Nix names the one command to run", async () => {
    const r = await hostCheck("ensureNixUsable", "", { PATH: "/nonexistent" }, "nobody");
    expect(r.out).toBe("SetupError: Nix is not installed: run `sudo nix/setup-host.sh` (installs and configures Debian's nix-bin)\n");
  });

  it("npm start accepts a Nix that can build, whatever its binary caches", async () => {
    const r = await hostCheck("ensureNixUsable", "", { NIX_CONF_DIR: confDir("substituters = https://cache.nixos.org/\nbuild-users-group =\n") });
    expect(r.out).toBe("ok\n");
  });

  it.skipIf(!nobodyReaches)("system packages: one line naming only the missing ones when not root; nothing to do when all are there", async () => {
    const missing = await hostCheck("ensureAptPackages", JSON.stringify(["git", "nixport-no-such-package"]), {}, "nobody");
    expect(missing.out).toBe("SetupError: missing system packages: run `sudo apt-get install --no-install-recommends nixport-no-such-package`\n");
    expect((await hostCheck("ensureAptPackages", JSON.stringify(["git", "nix-bin"]), {})).out).toBe("ok\n");
  });
});
