/**
 * What a public builder agrees to build: package allow and deny lists, checked on the names
 * as requested (before any Nix call), and a cap on the closure's size, checked once Nix has
 * reported it and before any layer is written. Refusals are `denied` errors (403 DENIED at
 * the edge), remembered like failed builds.
 */
import { BuildError } from "../common/build-error.ts";
import type { ClosureGraph } from "./nix/graph.ts";

export interface BuildPolicy {
  /** When set, only packages matching one of these may be built. */
  allow?: readonly string[];
  /** Packages matching one of these are never built. */
  deny?: readonly string[];
  /** Largest closure (sum of NAR sizes) an image may hold. */
  maxClosureBytes?: number;
}

/**
 * A package list from the environment: attribute paths separated by commas or spaces, each
 * exact or ending in `*` (a prefix: `python3packages.*`). Compared without case, as names are.
 */
export function parsePackageList(raw: string | undefined): string[] | undefined {
  const entries = (raw ?? "").split(/[\s,]+/).filter(Boolean).map((e) => e.toLowerCase());
  return entries.length ? entries : undefined;
}

function matches(name: string, patterns: readonly string[]): boolean {
  const n = name.toLowerCase();
  return patterns.some((p) => (p.endsWith("*") ? n.startsWith(p.slice(0, -1)) : n === p));
}

/** Throws `denied` naming every requested package the lists refuse. */
export function checkPackages(policy: BuildPolicy, packages: readonly string[]): void {
  const refused = packages.filter((p) => (policy.deny && matches(p, policy.deny)) || (policy.allow && !matches(p, policy.allow)));
  if (refused.length) throw new BuildError("denied", `this registry does not build ${refused.join(", ")} (package ${policy.allow ? "allow" : "deny"} list)`);
}

/** Throws `denied` when the closure is larger than the policy allows, naming its size and the limit. */
export function checkClosureSize(policy: BuildPolicy, graph: ClosureGraph): void {
  const max = policy.maxClosureBytes;
  if (!max) return;
  const bytes = graph.paths.reduce((sum, p) => sum + p.narSize, 0);
  if (bytes > max) {
    throw new BuildError("denied", `image too large: its closure is ${formatBytes(bytes)} (${bytes} bytes), over this registry's limit of ${formatBytes(max)} (${max} bytes)`);
  }
}

function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) (v /= 1024), i++;
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
}
