/**
 * What every image holds besides its packages, pure: the user database (root, nobody and
 * nonroot, with the nsswitch.conf that points lookups at it) and the home directories. Without
 * them programs that look up users (`id -un`, `whoami`, ssh, git, Python's getpass) fail, and
 * `HOME` would be `/`. The entries are the same in every image, so every image's forest layer
 * shares them byte for byte; whether an image runs as root or nonroot is its config's choice.
 */
import type { ImageUser } from "../../common/image-request.ts";
import type { ForestEntry } from "./forest.ts";

export type { ImageUser };

interface Account {
  name: string;
  id: number;
  home: string;
  shell: string;
}

const ACCOUNTS: readonly Account[] = [
  { name: "root", id: 0, home: "/root", shell: "/bin/sh" },
  { name: "nonroot", id: 65532, home: "/home/nonroot", shell: "/bin/sh" },
  // The conventional overflow id; it owns nothing and has no home.
  { name: "nobody", id: 65534, home: "/nonexistent", shell: "/sbin/nologin" },
];

/** How the image config runs an image as `user`: its `User` (absent for root) and `HOME`. */
export function userConfig(user: ImageUser): { user?: string; home: string } {
  const a = ACCOUNTS.find((x) => x.name === user)!;
  return a.id === 0 ? { home: a.home } : { user: `${a.id}:${a.id}`, home: a.home };
}

/** The home of a config `User` (`name`, `uid`, either with `:group`) when it is one of the image's accounts. */
export function homeOf(user: string): string | undefined {
  const who = user.split(":")[0];
  return ACCOUNTS.find((a) => a.name === who || String(a.id) === who)?.home;
}

const text = (lines: string[]) => new TextEncoder().encode(lines.map((l) => `${l}\n`).join(""));

/** Files (all 0644, root-owned) at their image paths. */
const FILES: ReadonlyArray<[string, Uint8Array]> = [
  ["etc/passwd", text(ACCOUNTS.map((a) => `${a.name}:x:${a.id}:${a.id}:${a.name}:${a.home}:${a.shell}`))],
  ["etc/group", text(ACCOUNTS.map((a) => `${a.name}:x:${a.id}:`))],
  // Only files: there is no NSS module in the image but glibc's built-ins.
  ["etc/nsswitch.conf", text(["passwd: files", "group: files", "shadow: files", "hosts: files dns", "networks: files", "protocols: files", "services: files"])],
];

/** The base system's entries; `/root` is root's alone, `/home/nonroot` nonroot's. */
export function baseSystemEntries(): ForestEntry[] {
  return [
    { type: "directory", path: "etc", mode: 0o755 },
    ...FILES.map(([path, content]): ForestEntry => ({ type: "file", path, mode: 0o644, content })),
    { type: "directory", path: "root", mode: 0o700 },
    { type: "directory", path: "home", mode: 0o755 },
    { type: "directory", path: "home/nonroot", mode: 0o755, owner: 65532 },
  ];
}

/**
 * The forest with the base system laid over it: a base entry replaces the package entry at
 * its path and everything below it (a package's own /etc/passwd or nsswitch.conf would name
 * users the image does not have), while a directory the forest already has stays as it is.
 */
export function withBaseSystem(forest: readonly ForestEntry[]): ForestEntry[] {
  const base = baseSystemEntries();
  const present = new Map(forest.map((e) => [e.path, e]));
  const replaced = base.filter((b) => !(b.type === "directory" && present.get(b.path)?.type === "directory")).map((b) => b.path);
  const covered = (path: string) => replaced.some((r) => path === r || path.startsWith(`${r}/`));
  const kept = forest.filter((e) => !covered(e.path));
  const added = base.filter((b) => replaced.includes(b.path));
  return [...kept, ...added];
}
