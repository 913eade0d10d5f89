/**
 * The route table: named descriptors matched against the raw (not percent-decoded) path.
 * Repository names contain slashes, so the resource suffix is matched from the right: the
 * greedy name keeps a package called `manifests` or `blobs` working.
 */

export type Route =
  | { kind: "landing" }
  | { kind: "base" }
  | { kind: "manifest"; name: string; reference: string }
  | { kind: "blob"; name: string; digest: string }
  | { kind: "tags"; name: string }
  | { kind: "referrers"; name: string; digest: string }
  | { kind: "nix-cache-info" }
  | { kind: "nix-cache-public-key" }
  | { kind: "narinfo"; hash: string }
  | { kind: "nar"; file: string }
  | { kind: "unknown" };

interface Descriptor {
  kind: Route["kind"];
  pattern: RegExp;
  build(m: RegExpExecArray): Route;
}

/** Paths longer than this are refused before any regex runs over them. */
export const MAX_PATH_LENGTH = 2048;

const descriptors: Descriptor[] = [
  { kind: "landing", pattern: /^\/$/, build: () => ({ kind: "landing" }) },
  { kind: "base", pattern: /^\/v2\/?$/, build: () => ({ kind: "base" }) },
  {
    kind: "manifest",
    pattern: /^\/v2\/(.+)\/manifests\/([^/]+)$/,
    build: (m) => ({ kind: "manifest", name: m[1] ?? "", reference: m[2] ?? "" }),
  },
  {
    kind: "blob",
    pattern: /^\/v2\/(.+)\/blobs\/([^/]+)$/,
    build: (m) => ({ kind: "blob", name: m[1] ?? "", digest: m[2] ?? "" }),
  },
  { kind: "tags", pattern: /^\/v2\/(.+)\/tags\/list$/, build: (m) => ({ kind: "tags", name: m[1] ?? "" }) },
  {
    kind: "referrers",
    pattern: /^\/v2\/(.+)\/referrers\/([^/]+)$/,
    build: (m) => ({ kind: "referrers", name: m[1] ?? "", digest: m[2] ?? "" }),
  },
  // The Nix binary cache at the root, where Nix looks for it; the handlers check the names.
  { kind: "nix-cache-info", pattern: /^\/nix-cache-info$/, build: () => ({ kind: "nix-cache-info" }) },
  { kind: "nix-cache-public-key", pattern: /^\/nix-cache-public-key$/, build: () => ({ kind: "nix-cache-public-key" }) },
  { kind: "narinfo", pattern: /^\/([^/]*)\.narinfo$/, build: (m) => ({ kind: "narinfo", hash: m[1] ?? "" }) },
  { kind: "nar", pattern: /^\/(nar\/[^/]*)$/, build: (m) => ({ kind: "nar", file: m[1] ?? "" }) },
];

/** Methods every route answers; the registry is pull-only. */
export const ALLOWED_METHODS = "GET, HEAD";

export function matchRoute(pathname: string): Route {
  if (pathname.length > MAX_PATH_LENGTH) return { kind: "unknown" };
  for (const d of descriptors) {
    const m = d.pattern.exec(pathname);
    if (m) return d.build(m);
  }
  return { kind: "unknown" };
}

/**
 * Percent-decodes a reference or digest segment (some clients escape the colon); names are
 * never decoded, so `%2F` or `%2e%2e` in a name stays invalid.
 */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
