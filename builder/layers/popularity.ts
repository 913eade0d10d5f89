/**
 * Popularity: for each store-path name (`hello-1.0`, without the hash, so the data survives
 * rebuilds of a package set), how many closures of a package set hold it. Popular paths
 * are shared by many images, so they deserve layers of their own.
 */
import { readFile } from "node:fs/promises";
import type { ClosureGraph } from "../nix/graph.ts";
import { storePathName } from "../nix/graph.ts";
import { compareStrings } from "./key.ts";

export type Popularity = ReadonlyMap<string, number>;

const HASH_PART_RE = /^[0-9a-z]{32}-/;

/** A popularity key as stored: a name, or a full store path / `<hash>-name` (Nixery-style files). */
function normalizeName(key: string): string {
  const base = key.slice(key.lastIndexOf("/") + 1);
  return HASH_PART_RE.test(base) ? storePathName(base) : base;
}

/** Validates a popularity file's JSON: an object of name → non-negative integer count. */
export function parsePopularity(json: unknown): Map<string, number> {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error("popularity data must be a JSON object of store-path name → count");
  }
  const out = new Map<string, number>();
  for (const [key, count] of Object.entries(json)) {
    if (typeof count !== "number" || !Number.isInteger(count) || count < 0) {
      throw new Error(`popularity of ${JSON.stringify(key)} is not a non-negative integer`);
    }
    const name = normalizeName(key);
    out.set(name, Math.max(out.get(name) ?? 0, count));
  }
  return out;
}

/** Loads a popularity file from an http(s) URL or a local path (or file: URL). */
export async function loadPopularity(source: string): Promise<Map<string, number>> {
  if (/^https?:\/\//.test(source)) {
    const res = await fetch(source);
    if (!res.ok) throw new Error(`fetching popularity ${source}: HTTP ${res.status}`);
    return parsePopularity(await res.json());
  }
  const file = source.startsWith("file:") ? new URL(source) : source;
  return parsePopularity(JSON.parse(await readFile(file, "utf8")));
}

/** The popularity file's text: keys sorted, so equal data gives equal bytes. */
export function formatPopularity(popularity: Popularity): string {
  const names = [...popularity.keys()].sort(compareStrings);
  return `{\n${names.map((n) => `  ${JSON.stringify(n)}: ${popularity.get(n)}`).join(",\n")}\n}\n`;
}

/** Counts, for each name, how many of the closures (each a list of store paths) hold it. */
export function popularityFromClosures(closures: Iterable<Iterable<string>>): Map<string, number> {
  const out = new Map<string, number>();
  for (const closure of closures) {
    const names = new Set<string>();
    for (const path of closure) names.add(storePathName(path));
    for (const name of names) out.set(name, (out.get(name) ?? 0) + 1);
  }
  return out;
}

/**
 * Each root's own closure within one graph, in root order: how a package set's popularity
 * is computed from a single `nix path-info -r` over all its packages.
 */
export function closuresOfRoots(graph: ClosureGraph): string[][] {
  const refs = new Map(graph.paths.map((p) => [p.path, p.references]));
  return graph.roots.map((root) => {
    const seen = new Set<string>([root]);
    const stack = [root];
    while (stack.length > 0) {
      const path = stack.pop()!;
      const next = refs.get(path);
      if (next === undefined) throw new Error(`store path ${path} is missing from the graph`);
      for (const r of next) {
        if (!seen.has(r)) {
          seen.add(r);
          stack.push(r);
        }
      }
    }
    return [...seen];
  });
}

/** The largest count in the data: the scale that "popular" is measured against. */
export function maxPopularity(popularity: Popularity): number {
  let max = 0;
  for (const count of popularity.values()) max = Math.max(max, count);
  return max;
}
