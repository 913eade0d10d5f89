/**
 * The registry's name grammar, pure: a repository name and a reference become an
 * ImageRequest, or are rejected with a reason. Nothing here does I/O.
 *
 *   [arm64|amd64/][shell/]pkg[/pkg…]:tag
 *
 * Every path component is a package attribute path in the lowercase OCI grammar (dots
 * select nested attributes: python3packages.requests). The meta-packages (`shell`, `arm64`,
 * `amd64`) are recognised in any position, so that order and duplicates never change the
 * image: `arm64/shell/git`, `git/shell/arm64` and `shell/git/git/arm64` are the same image.
 */
import type { ImageRequest } from "./builder/client.ts";

export type { ImageRequest };

/** OCI distribution spec: one path component of a repository name. */
const COMPONENT_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
/** OCI distribution spec: a tag. */
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** OCI image spec: any digest (algorithm:encoded); only sha256 is stored here. */
const ANY_DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const SHA256_DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** Longest repository name accepted (the spec lets registries cap it; Docker uses 255). */
export const MAX_NAME_LENGTH = 255;

/** What `shell` expands to; lowercase like every OCI name, the builder resolves the spelling. */
export const SHELL_PACKAGES: readonly string[] = ["bashinteractive", "coreutils", "moreutils", "nano"];

const ARCHES = new Set(["amd64", "arm64"]);

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/** Architecture and packages of a repository name; the tag is checked apart (parseTag). */
export function parseName(name: string): Parsed<Omit<ImageRequest, "tag">> {
  if (name.length === 0) return fail("empty name");
  if (name.length > MAX_NAME_LENGTH) return fail(`name longer than ${MAX_NAME_LENGTH} characters`);
  let arch: ImageRequest["arch"] | undefined;
  const packages = new Set<string>();
  for (const component of name.split("/")) {
    if (!COMPONENT_RE.test(component)) {
      return fail(`invalid path component ${JSON.stringify(component)}: expected lowercase letters, digits and . _ __ - separators`);
    }
    if (ARCHES.has(component)) {
      if (arch !== undefined && arch !== component) return fail(`conflicting architectures ${arch} and ${component}`);
      arch = component as ImageRequest["arch"];
    } else if (component === "shell") {
      for (const p of SHELL_PACKAGES) packages.add(p);
    } else {
      packages.add(component);
    }
  }
  if (packages.size === 0) return fail("no packages named");
  return { ok: true, value: { arch: arch ?? "amd64", packages: [...packages].sort() } };
}

export function isTag(reference: string): boolean {
  return TAG_RE.test(reference);
}

export type DigestRef =
  | { kind: "digest"; digest: string }
  /** A well-formed digest in an algorithm this registry never stores (e.g. sha512). */
  | { kind: "foreign-digest"; digest: string };

export type Reference = { kind: "tag"; tag: string } | DigestRef;

/** A manifest reference: a tag, or a digest. */
export function parseReference(reference: string): Parsed<Reference> {
  if (TAG_RE.test(reference)) return { ok: true, value: { kind: "tag", tag: reference } };
  if (!reference.includes(":")) return fail(`invalid tag ${JSON.stringify(reference.slice(0, 140))}`);
  return parseDigest(reference);
}

/** A blob or manifest digest. */
export function parseDigest(digest: string): Parsed<DigestRef> {
  if (SHA256_DIGEST_RE.test(digest)) return { ok: true, value: { kind: "digest", digest } };
  if (digest.startsWith("sha256:")) return fail("a sha256 digest is 64 lowercase hex digits");
  if (ANY_DIGEST_RE.test(digest) && digest.length <= 256) return { ok: true, value: { kind: "foreign-digest", digest } };
  return fail(`invalid digest ${JSON.stringify(digest.slice(0, 140))}`);
}

/** Parses name and tag together. */
export function parseImageRequest(name: string, tag: string): Parsed<ImageRequest> {
  const n = parseName(name);
  if (!n.ok) return n;
  if (!isTag(tag)) return fail(`invalid tag ${JSON.stringify(tag.slice(0, 140))}`);
  return { ok: true, value: { ...n.value, tag } };
}

/**
 * The canonical form of a request: equal for requests that build the same image, so it
 * keys the tag cache, in-flight dedup and the builder choice.
 */
export function requestKey(req: ImageRequest): string {
  return `${req.arch}/${req.packages.join("/")}:${req.tag}`;
}
