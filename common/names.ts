/**
 * The registry's one name grammar, pure (no I/O), for every caller: the edge parses pulls
 * with it, the builder parses gRPC image names and checks package names with it.
 *
 *   [arm64|amd64/][nonroot/][shell/]pkg[/pkg…]:tag
 *
 * Every path component is a package attribute path in the lowercase OCI grammar (dots
 * select nested attributes: python3packages.requests; the builder finds camelCase
 * attributes from lowercase spellings). Prefix components (`arm64`, `amd64`, `nonroot`) and
 * meta-packages (`shell`) are recognised in any position, so that order and duplicates
 * never change the image: `arm64/shell/git`, `git/shell/arm64` and `shell/git/git/arm64`
 * are the same image.
 */
import type { Arch, ImageRequest, ImageUser } from "./image-request.ts";

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

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/** A repository name's image: the request without its tag. */
export type ImageName = Omit<ImageRequest, "tag">;

/** A name being read: what the prefixes seen so far set. */
interface Draft {
  arch?: Arch;
  user?: ImageUser;
}

/**
 * Name components that set a property of the image instead of naming a package. Each
 * applies itself to the draft, or says why it conflicts with what an earlier one set. A new
 * prefix is one entry here, one field in Draft and ImageRequest, and one step in imageName.
 */
const PREFIXES: Record<string, (d: Draft) => string | undefined> = {
  amd64: setArch("amd64"),
  arm64: setArch("arm64"),
  // Runs as nonroot (65532:65532, HOME=/home/nonroot); every image has that user.
  nonroot: (d) => ((d.user = "nonroot"), undefined),
};

function setArch(arch: Arch): (d: Draft) => string | undefined {
  return (d) => {
    if (d.arch !== undefined && d.arch !== arch) return `conflicting architectures ${d.arch} and ${arch}`;
    d.arch = arch;
    return undefined;
  };
}

/** Components that stand for several packages. */
const META_PACKAGES: Record<string, readonly string[]> = { shell: SHELL_PACKAGES };

/** Architecture and packages (sorted, de-duplicated) of a repository name; the tag is checked apart (isTag). */
/**
 * Whether a name picks its architecture (an `amd64` or `arm64` component): such a name is
 * that one platform's image; any other is answered with an index of every platform.
 */
export const namesArch = (name: string): boolean => name.split("/").some((c) => c === "amd64" || c === "arm64");

export function parseName(name: string): Parsed<ImageName> {
  if (name.length === 0) return fail("empty name");
  if (name.length > MAX_NAME_LENGTH) return fail(`name longer than ${MAX_NAME_LENGTH} characters`);
  const draft: Draft = {};
  const packages = new Set<string>();
  for (const component of name.split("/")) {
    if (!COMPONENT_RE.test(component)) {
      return fail(`invalid path component ${JSON.stringify(component)}: expected lowercase letters, digits and . _ __ - separators`);
    }
    const prefix = Object.hasOwn(PREFIXES, component) ? PREFIXES[component] : undefined;
    const meta = Object.hasOwn(META_PACKAGES, component) ? META_PACKAGES[component] : undefined;
    if (prefix) {
      const conflict = prefix(draft);
      if (conflict) return fail(conflict);
    } else if (meta) {
      for (const p of meta) packages.add(p);
    } else {
      packages.add(component);
    }
  }
  if (packages.size === 0) return fail("no packages named");
  const image: ImageName = { arch: draft.arch ?? "amd64", packages: [...packages].sort() };
  if (draft.user) image.user = draft.user;
  return { ok: true, value: image };
}

/**
 * The canonical repository name of an image, as a pull writes it: prefixes that differ from
 * the default first, then the packages in canonical order. It parses back to the same image
 * when every package name is in the OCI grammar; null when one is not (e.g. `gtk+`).
 */
export function imageName(image: ImageName): string | null {
  const packages = [...new Set(image.packages.map((p) => p.toLowerCase()))].sort();
  if (!packages.every((p) => COMPONENT_RE.test(p) && !Object.hasOwn(PREFIXES, p) && !Object.hasOwn(META_PACKAGES, p))) return null;
  const prefixes = [...(image.arch === "arm64" ? ["arm64"] : []), ...(image.user === "nonroot" ? ["nonroot"] : [])];
  const name = [...prefixes, ...packages].join("/");
  return name.length <= MAX_NAME_LENGTH ? name : null;
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

/** Parses name and tag together: the canonical request a pull asks for. */
export function parseImageRequest(name: string, tag: string): Parsed<ImageRequest> {
  const n = parseName(name);
  if (!n.ok) return n;
  if (!isTag(tag)) return fail(`invalid tag ${JSON.stringify(tag.slice(0, 140))}`);
  return { ok: true, value: { ...n.value, tag } };
}

/*
 * Package attribute paths, as gRPC callers name them. Names reach Nix only as JSON data, so
 * this grammar is a second fence, not the only one: it keeps out anything that is not
 * plainly an attribute path.
 */

/** One attribute name: Nix identifiers as package sets use them (`python3`, `gtk+`, `bashInteractive`). */
const ATTR_RE = /^[A-Za-z0-9_][A-Za-z0-9_+-]*$/;
export const MAX_PACKAGE_NAME_LENGTH = 128;
export const MAX_PACKAGE_NAME_COMPONENTS = 6;
export const MAX_PACKAGES = 200;

/** Why `name` is not a package name, or null when it is one. */
export function packageNameProblem(name: string): string | null {
  if (typeof name !== "string" || name.length === 0) return "empty package name";
  if (name.length > MAX_PACKAGE_NAME_LENGTH) return `package name longer than ${MAX_PACKAGE_NAME_LENGTH} characters`;
  const parts = name.split(".");
  if (parts.length > MAX_PACKAGE_NAME_COMPONENTS) return `package name with more than ${MAX_PACKAGE_NAME_COMPONENTS} components`;
  for (const part of parts) {
    if (!ATTR_RE.test(part)) return `invalid package name ${JSON.stringify(name)}`;
  }
  return null;
}

/** Problems with a whole request's package list (empty list, too many, bad names). */
export function packageListProblems(names: readonly string[]): string[] {
  if (names.length === 0) return ["no packages requested"];
  if (names.length > MAX_PACKAGES) return [`more than ${MAX_PACKAGES} packages requested`];
  return names.map(packageNameProblem).filter((p): p is string => p !== null);
}
