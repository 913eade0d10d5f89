/** The runtime closure of a set of realised packages, as Nix reports it. */

/** One store path with its NAR size and the store paths it references at run time. */
export interface StorePathInfo {
  /** Absolute store path, e.g. `/nix/store/<hash>-hello-1.0`. */
  path: string;
  /** Size of the path's NAR serialisation in bytes (Nix's `narSize`). */
  narSize: number;
  /** Store paths this path references (may include itself). */
  references: string[];
  /** The NAR's hash as Nix prints it (`sha256-<base64>`, or `sha256:<base32>` in older Nix). */
  narHash?: string;
  /** The derivation that produced the path, when Nix knows it. */
  deriver?: string;
}

/** A closure graph: every path reachable from `roots`, each exactly once. */
export interface ClosureGraph {
  /** Output paths of the requested packages, in request order. */
  roots: string[];
  paths: StorePathInfo[];
}

/** Store path name without the hash: `/nix/store/abc…-hello-1.0` → `hello-1.0`. */
export function storePathName(path: string): string {
  // Searching forward settles the common case without a backward search for the last "/":
  // when no "/" follows the first "-", that "-" is the first of the base name. (The planner
  // asks for the names of a whole package set's paths.)
  const first = path.indexOf("-");
  if (first >= 0 && path.indexOf("/", first) < 0) return path.slice(first + 1);
  const base = path.slice(path.lastIndexOf("/") + 1);
  const dash = base.indexOf("-");
  return dash < 0 ? base : base.slice(dash + 1);
}
