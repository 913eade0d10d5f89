import type { StorePathInfo } from "./graph.ts";

interface RawPathInfo {
  path?: string;
  narSize?: number;
  references?: string[];
  narHash?: string;
  deriver?: string;
  valid?: boolean;
}

/**
 * Parses `nix path-info --json`: Nix 2.8 prints a list of objects with `path`; Nix ≥ 2.19
 * prints an object keyed by store path. Output is sorted by path, references sorted too.
 */
export function parsePathInfo(json: unknown): StorePathInfo[] {
  const entries: [string, RawPathInfo][] = Array.isArray(json)
    ? (json as RawPathInfo[]).map((e) => [e.path ?? "", e])
    : Object.entries((json ?? {}) as Record<string, RawPathInfo>);
  const out: StorePathInfo[] = [];
  for (const [path, info] of entries) {
    if (!path.startsWith("/")) throw new Error(`path-info entry without a store path: ${JSON.stringify(info)}`);
    if (info === null || info.valid === false) throw new Error(`store path is not valid: ${path}`);
    const references = (info.references ?? []).map((r) => (r.startsWith("/") ? r : `${path.slice(0, path.lastIndexOf("/"))}/${r}`));
    const entry: StorePathInfo = { path, narSize: Number(info.narSize ?? 0), references: [...new Set(references)].sort() };
    if (typeof info.narHash === "string") entry.narHash = info.narHash;
    if (typeof info.deriver === "string" && info.deriver.startsWith("/")) entry.deriver = info.deriver;
    out.push(entry);
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
