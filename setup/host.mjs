// The set-up step of `npm start` and `npm test` on a fresh clone: npm dependencies, system
// packages, Nix. Plain Node (no tsx, no dependencies): it runs before `npm ci` has.
// Each check is cheap when everything is there (a stat, one dpkg-query, one nix call), and
// nothing is installed or written a second time.
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";

export const ROOT = new URL("..", import.meta.url).pathname;
const isRoot = process.getuid?.() === 0;

/** A set-up failure: `message` is the one line telling the user what to run. */
export class SetupError extends Error {}

const mtime = (path) => statSync(path, { throwIfNoEntry: false })?.mtimeMs;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: "inherit", ...opts });
  if (r.status !== 0) throw new SetupError(`set-up failed: ${cmd} ${args.join(" ")} (exit ${r.status ?? r.error?.message ?? r.signal})`);
}

/**
 * `npm ci` when node_modules is missing or older than package-lock.json. npm rewrites
 * node_modules/.package-lock.json on every install, so its age is the install's age.
 */
export function ensureNodeModules(say) {
  const installed = mtime(join(ROOT, "node_modules", ".package-lock.json"));
  if (installed !== undefined && installed >= mtime(join(ROOT, "package-lock.json"))) return;
  say(installed === undefined ? "installing npm dependencies (npm ci)" : "package-lock.json changed: reinstalling npm dependencies (npm ci)");
  // Under npm, npm_execpath is the npm that runs us (the one matching this Node); under
  // another package manager it names that one instead.
  const cli = process.env.npm_execpath;
  const npm = cli && /npm-cli\.js$/.test(cli) ? [process.execPath, cli] : ["npm"];
  run(npm[0], [...npm.slice(1), "ci", "--no-audit", "--no-fund"]);
}

/** The packages of `pkgs` that dpkg does not list as installed (one dpkg-query for all). */
function missingPackages(pkgs) {
  const r = spawnSync("dpkg-query", ["-W", "-f=${Package} ${Status}\\n", ...pkgs], { encoding: "utf8" });
  if (r.error) return null; // not a Debian-like host: nothing to check with
  const installed = new Set(
    r.stdout
      .split("\n")
      .filter((l) => l.endsWith(" install ok installed"))
      .map((l) => l.split(" ")[0].split(":")[0]),
  );
  return pkgs.filter((p) => !installed.has(p));
}

/** Installs the missing Debian packages of `pkgs` as root; otherwise says what to run. */
export function ensureAptPackages(pkgs, say) {
  const missing = missingPackages(pkgs);
  if (missing === null) return say(`no dpkg here: cannot check for ${pkgs.join(" ")}`);
  if (!missing.length) return;
  const cmd = `apt-get install --no-install-recommends ${missing.join(" ")}`;
  if (!isRoot) throw new SetupError(`missing system packages: run \`sudo ${cmd}\``);
  say(`installing system packages: ${missing.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  run("apt-get", ["update", "-qq"], { env });
  run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { env, stdio: ["ignore", "ignore", "inherit"] });
}

/** Why Nix cannot build here, or null: not installed, or a build-users group that does not exist. */
function nixProblem() {
  const r = spawnSync("nix", ["--extra-experimental-features", "nix-command", "show-config"], { encoding: "utf8" });
  if (r.error || r.status !== 0) return "Nix is not installed";
  const group = /^build-users-group = (.*)$/m.exec(r.stdout)?.[1]?.trim();
  if (isRoot && group && spawnSync("getent", ["group", group]).status !== 0) return `Nix's build-users-group '${group}' does not exist`;
  return null;
}

const SETUP_HOST = "nix/setup-host.sh";

/**
 * For `npm start`: Nix must be able to build. As root on a host without Nix, installs and
 * configures it (nix/setup-host.sh); a Nix that is there but broken is the owner's to fix.
 */
export function ensureNixUsable(say) {
  const problem = nixProblem();
  if (!problem) return;
  if (!isRoot || problem !== "Nix is not installed") throw new SetupError(`${problem}: run \`sudo ${SETUP_HOST}\` (installs and configures Debian's nix-bin)`);
  say("installing and configuring Nix (nix/setup-host.sh)");
  run(join(ROOT, SETUP_HOST), []);
}

/**
 * For `npm test`: Nix configured exactly as nix/setup-host.sh leaves it (the tests assume
 * it), with `flags` (such as --arm64) passed on.
 */
export function ensureNixConfigured(say, flags = []) {
  const check = spawnSync(join(ROOT, SETUP_HOST), ["--check", ...flags], { encoding: "utf8" });
  if (check.status === 0) return;
  const cmd = [SETUP_HOST, ...flags].join(" ");
  if (!isRoot) throw new SetupError(`Nix is not set up for the tests (${check.stdout.trim()}): run \`sudo ${cmd}\``);
  say(`configuring Nix for the tests (${cmd})`);
  run(join(ROOT, SETUP_HOST), flags);
}
