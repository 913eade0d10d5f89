/**
 * The route table, as go-containerregistry tests its registry: one row per request, with
 * the status, error code and headers it must get. Runs inside workerd.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { BROKEN, DOCKER, makeEdge, OCI, ociError, ZERO_DIGEST, type Edge } from "./harness.ts";

interface Fixture {
  docker: string;
  oci: string;
  layer: string;
  layerSize: number;
}

type Expect = string | RegExp | null; // null = header absent

interface Row {
  name: string;
  method?: string;
  path: string | ((f: Fixture) => string);
  headers?: Record<string, string>;
  status: number;
  code?: string;
  expectHeaders?: Record<string, Expect | ((f: Fixture) => Expect)>;
  body?: (body: unknown, f: Fixture) => void;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const ALL_UNSUPPORTED = { Allow: "GET, HEAD" };

const rows: Row[] = [
  // Base
  { name: "base", path: "/v2/", status: 200, expectHeaders: { "content-type": "application/json" } },
  { name: "base without slash", path: "/v2", status: 200 },
  { name: "base HEAD", method: "HEAD", path: "/v2/", status: 200 },
  { name: "base with query", path: "/v2/?service=x&scope=y", status: 200 },
  { name: "base POST", method: "POST", path: "/v2/", status: 405, code: "UNSUPPORTED", expectHeaders: ALL_UNSUPPORTED },
  { name: "base OPTIONS", method: "OPTIONS", path: "/v2/", status: 405, code: "UNSUPPORTED" },
  // The Nix binary cache (this edge has no cache records: only names are checked, then 404)
  { name: "nix-cache-info", path: "/nix-cache-info", status: 200, expectHeaders: { "content-type": "text/x-nix-cache-info" } },
  { name: "narinfo of a hash never written", path: `/${"0".repeat(32)}.narinfo`, status: 404, code: "BLOB_UNKNOWN" },
  { name: "narinfo of no store hash", path: "/abc.narinfo", status: 400, code: "NAME_INVALID" },
  { name: "narinfo outside Nix's base32", path: `/${"e".repeat(32)}.narinfo`, status: 400, code: "NAME_INVALID" },
  { name: "NAR never written", path: `/nar/${"0".repeat(64)}.nar.zst`, status: 404, code: "BLOB_UNKNOWN" },
  { name: "NAR of no NAR name", path: "/nar/x.nar", status: 400, code: "NAME_INVALID" },
  { name: "public key before any cache", path: "/nix-cache-public-key", status: 404, code: "BLOB_UNKNOWN" },
  // Manifests by tag
  {
    name: "manifest by tag, default Docker",
    path: "/v2/git/manifests/latest",
    status: 200,
    expectHeaders: { "content-type": DOCKER, "docker-content-digest": (f) => f.docker, "content-length": /^\d+$/, vary: "Accept" },
    body: (b) => expect((b as { mediaType: string }).mediaType).toBe(DOCKER),
  },
  {
    name: "manifest by tag, OCI-only client",
    path: "/v2/git/manifests/latest",
    headers: { Accept: `${OCI}, application/vnd.oci.image.index.v1+json` },
    status: 200,
    expectHeaders: { "content-type": OCI, "docker-content-digest": (f) => f.oci },
  },
  {
    name: "manifest by tag, client accepting both gets Docker",
    path: "/v2/git/manifests/latest",
    headers: { Accept: `${OCI}, ${DOCKER}` },
    status: 200,
    expectHeaders: { "content-type": DOCKER },
  },
  {
    name: "manifest by tag, Docker refused with q=0",
    path: "/v2/git/manifests/latest",
    headers: { Accept: `${OCI};q=0.9, ${DOCKER};q=0` },
    status: 200,
    expectHeaders: { "content-type": OCI },
  },
  { name: "manifest by tag, garbage Accept", path: "/v2/git/manifests/latest", headers: { Accept: ";;,,q=," }, status: 200, expectHeaders: { "content-type": DOCKER } },
  {
    name: "manifest HEAD by tag",
    method: "HEAD",
    path: "/v2/git/manifests/latest",
    status: 200,
    expectHeaders: { "content-type": DOCKER, "docker-content-digest": (f) => f.docker, "content-length": /^[1-9]\d*$/ },
  },
  { name: "manifest by tag with query", path: "/v2/git/manifests/latest?x=1&y", status: 200, expectHeaders: { "docker-content-digest": (f) => f.docker } },
  { name: "package called manifests", path: "/v2/manifests/manifests/latest", status: 200, expectHeaders: { "content-type": DOCKER } },
  { name: "package called blobs", path: "/v2/blobs/git/manifests/latest", status: 200 },
  { name: "nested attribute", path: "/v2/python3packages.requests/manifests/latest", status: 200 },
  { name: "commit tag", path: `/v2/git/manifests/${"a".repeat(40)}`, status: 200, expectHeaders: { "cache-control": /max-age=86400/ } },
  // Manifests by digest
  {
    name: "manifest by digest",
    path: (f) => `/v2/git/manifests/${f.docker}`,
    status: 200,
    expectHeaders: { "content-type": DOCKER, "docker-content-digest": (f) => f.docker, "cache-control": "public, max-age=31536000, immutable" },
  },
  {
    name: "OCI manifest by digest ignores Accept",
    path: (f) => `/v2/git/manifests/${f.oci}`,
    headers: { Accept: DOCKER },
    status: 200,
    expectHeaders: { "content-type": OCI, "docker-content-digest": (f) => f.oci },
  },
  {
    name: "manifest HEAD by digest",
    method: "HEAD",
    path: (f) => `/v2/git/manifests/${f.docker}`,
    status: 200,
    expectHeaders: { "content-length": /^[1-9]\d*$/, "cache-control": /immutable/ },
  },
  { name: "manifest by digest, any repository", path: (f) => `/v2/htop/manifests/${f.docker}`, status: 200 },
  { name: "manifest by percent-encoded digest", path: (f) => `/v2/git/manifests/${f.docker.replace(":", "%3A")}`, status: 200 },
  { name: "manifest digest unknown", path: `/v2/git/manifests/${ZERO_DIGEST}`, status: 404, code: "MANIFEST_UNKNOWN" },
  { name: "manifest HEAD digest unknown", method: "HEAD", path: `/v2/git/manifests/${ZERO_DIGEST}`, status: 404 },
  { name: "layer is not a manifest", path: (f) => `/v2/git/manifests/${f.layer}`, status: 404, code: "MANIFEST_UNKNOWN" },
  { name: "short sha256 digest", path: "/v2/git/manifests/sha256:abc", status: 400, code: "DIGEST_INVALID" },
  { name: "uppercase sha256 digest", path: `/v2/git/manifests/sha256:${"A".repeat(64)}`, status: 400, code: "DIGEST_INVALID" },
  { name: "sha512 digest", path: `/v2/git/manifests/sha512:${"0".repeat(128)}`, status: 404, code: "MANIFEST_UNKNOWN" },
  { name: "invalid tag", path: "/v2/git/manifests/-bad", status: 404, code: "MANIFEST_UNKNOWN" },
  { name: "tag too long", path: `/v2/git/manifests/${"t".repeat(129)}`, status: 404, code: "MANIFEST_UNKNOWN" },
  // Names
  {
    name: "unknown package named in detail",
    path: "/v2/nosuchpkg/manifests/latest",
    status: 404,
    code: "MANIFEST_UNKNOWN",
    body: (b) => expect((b as { detail: { unknownPackages: string[] } }).detail.unknownPackages).toEqual(["nosuchpkg"]),
  },
  {
    name: "every unknown package named",
    path: "/v2/git/zzz/aaa/manifests/latest",
    status: 404,
    code: "MANIFEST_UNKNOWN",
    body: (b) => {
      expect((b as { detail: { unknownPackages: string[] } }).detail.unknownPackages).toEqual(["aaa", "zzz"]);
      expect((b as { message: string }).message).toBe("unknown packages: aaa, zzz");
    },
  },
  { name: "uppercase name", path: "/v2/Git/manifests/latest", status: 400, code: "NAME_INVALID" },
  { name: "two architectures", path: "/v2/arm64/amd64/git/manifests/latest", status: 400, code: "NAME_INVALID" },
  { name: "architecture only", path: "/v2/arm64/manifests/latest", status: 400, code: "NAME_INVALID" },
  { name: "empty component", path: "/v2/git//htop/manifests/latest", status: 400, code: "NAME_INVALID" },
  { name: "name too long", path: `/v2/${"a".repeat(256)}/manifests/latest`, status: 400, code: "NAME_INVALID" },
  { name: "percent-encoded name", path: "/v2/g%69t/manifests/latest", status: 400, code: "NAME_INVALID" },
  // Builds
  {
    name: "failed build",
    path: "/v2/broken/manifests/latest",
    status: 500,
    code: "BUILD_FAILED",
    body: (b) => expect((b as { detail: unknown }).detail).toMatchObject({ derivation: BROKEN.derivation, logTail: BROKEN.logTail }),
  },
  { name: "failed build HEAD", method: "HEAD", path: "/v2/broken/manifests/latest", status: 500 },
  // Push methods
  { name: "manifest PUT", method: "PUT", path: "/v2/git/manifests/latest", status: 405, code: "UNSUPPORTED", expectHeaders: ALL_UNSUPPORTED },
  { name: "manifest DELETE", method: "DELETE", path: (f) => `/v2/git/manifests/${f.docker}`, status: 405, code: "UNSUPPORTED" },
  { name: "blob upload POST", method: "POST", path: "/v2/git/blobs/uploads/", status: 405, code: "UNSUPPORTED" },
  { name: "blob upload PATCH", method: "PATCH", path: "/v2/git/blobs/uploads/abc", status: 405, code: "UNSUPPORTED" },
  { name: "blob DELETE", method: "DELETE", path: (f) => `/v2/git/blobs/${f.layer}`, status: 405, code: "UNSUPPORTED" },
  // Blobs (this store streams: no signer)
  {
    name: "blob GET streams",
    path: (f) => `/v2/git/blobs/${f.layer}`,
    status: 200,
    expectHeaders: {
      "content-type": "application/octet-stream",
      "docker-content-digest": (f) => f.layer,
      "content-length": (f) => String(f.layerSize),
      "accept-ranges": "bytes",
      location: null,
    },
  },
  {
    name: "blob HEAD",
    method: "HEAD",
    path: (f) => `/v2/git/blobs/${f.layer}`,
    status: 200,
    expectHeaders: { "content-length": (f) => String(f.layerSize), "docker-content-digest": (f) => f.layer, location: null },
  },
  { name: "blob with query", path: (f) => `/v2/git/blobs/${f.layer}?ns=docker.io`, status: 200 },
  {
    name: "blob Range",
    path: (f) => `/v2/git/blobs/${f.layer}`,
    headers: { Range: "bytes=0-3" },
    status: 206,
    expectHeaders: { "content-range": (f) => `bytes 0-3/${f.layerSize}`, "content-length": "4" },
  },
  { name: "blob suffix Range", path: (f) => `/v2/git/blobs/${f.layer}`, headers: { Range: "bytes=-2" }, status: 206, expectHeaders: { "content-length": "2" } },
  { name: "blob Range past end", path: (f) => `/v2/git/blobs/${f.layer}`, headers: { Range: "bytes=999999-" }, status: 416, code: "RANGE_INVALID", expectHeaders: { "content-range": (f) => `bytes */${f.layerSize}` } },
  { name: "blob malformed Range ignored", path: (f) => `/v2/git/blobs/${f.layer}`, headers: { Range: "bytes=5-2" }, status: 200 },
  { name: "blob multi-range ignored", path: (f) => `/v2/git/blobs/${f.layer}`, headers: { Range: "bytes=0-1,3-4" }, status: 200 },
  { name: "blob unknown", path: `/v2/git/blobs/${ZERO_DIGEST}`, status: 404, code: "BLOB_UNKNOWN" },
  { name: "blob HEAD unknown", method: "HEAD", path: `/v2/git/blobs/${ZERO_DIGEST}`, status: 404 },
  { name: "blob sha512", path: `/v2/git/blobs/sha512:${"0".repeat(128)}`, status: 404, code: "BLOB_UNKNOWN" },
  { name: "blob bad digest", path: "/v2/git/blobs/sha256:xyz", status: 400, code: "DIGEST_INVALID" },
  { name: "blob not a digest", path: "/v2/git/blobs/latest", status: 400, code: "DIGEST_INVALID" },
  { name: "blob invalid name", path: (f) => `/v2/GIT/blobs/${f.layer}`, status: 400, code: "NAME_INVALID" },
  // Tags
  {
    name: "tags list",
    path: "/v2/shell/git/tags/list",
    status: 200,
    expectHeaders: { "content-type": "application/json" },
    body: (b) => expect(b).toEqual({ name: "shell/git", tags: ["latest"] }),
  },
  { name: "tags list n=0", path: "/v2/git/tags/list?n=0", status: 200, body: (b) => expect(b).toEqual({ name: "git", tags: [] }) },
  { name: "tags list last=latest", path: "/v2/git/tags/list?last=latest", status: 200, body: (b) => expect(b).toEqual({ name: "git", tags: [] }) },
  { name: "tags list invalid name", path: "/v2/Bad/tags/list", status: 400, code: "NAME_INVALID" },
  { name: "tags list unknown packages", path: "/v2/git/nosuch/tags/list", status: 404, code: "NAME_UNKNOWN" },
  // Elsewhere
  { name: "catalog", path: "/v2/_catalog", status: 404, code: "UNSUPPORTED" },
  { name: "unknown path", path: "/nope", status: 404, code: "UNSUPPORTED" },
  { name: "manifests without reference", path: "/v2/git/manifests/", status: 404, code: "UNSUPPORTED" },
  { name: "landing", path: "/", status: 200, expectHeaders: { "content-type": "text/html; charset=utf-8" } },
  { name: "landing with query", path: "/?utm=1", status: 200 },
  { name: "landing POST", method: "POST", path: "/", status: 405, code: "UNSUPPORTED" },
];

describe("route table", () => {
  let edge: Edge;
  let f: Fixture;

  beforeAll(async () => {
    edge = makeEdge();
    const docker = await edge.fetch("/v2/git/manifests/latest");
    const oci = await edge.fetch("/v2/git/manifests/latest", { headers: { Accept: OCI } });
    const manifest = (await docker.json()) as { layers: { digest: string; size: number }[] };
    f = {
      docker: docker.headers.get("docker-content-digest")!,
      oci: oci.headers.get("docker-content-digest")!,
      layer: manifest.layers[0]!.digest,
      layerSize: manifest.layers[0]!.size,
    };
    expect(f.docker).toMatch(DIGEST);
    expect(f.oci).toMatch(DIGEST);
    expect(f.oci).not.toBe(f.docker);
  });

  it("has dozens of rows", () => {
    expect(rows.length).toBeGreaterThan(50);
  });

  for (const row of rows) {
    it(`${row.method ?? "GET"} ${row.name}`, async () => {
      const path = typeof row.path === "function" ? row.path(f) : row.path;
      const method = row.method ?? "GET";
      const res = await edge.fetch(path, { method, headers: row.headers ?? {} });
      expect(res.status).toBe(row.status);
      expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
      for (const [name, want] of Object.entries(row.expectHeaders ?? {})) {
        const expected = typeof want === "function" ? want(f) : want;
        const got = res.headers.get(name);
        if (expected === null) expect(got, name).toBeNull();
        else if (expected instanceof RegExp) expect(got, name).toMatch(expected);
        else expect(got, name).toBe(expected);
      }
      if (method === "HEAD") {
        expect(await res.text()).toBe("");
        return;
      }
      if (row.code) {
        const err = await ociError(res);
        expect(err.code).toBe(row.code);
        row.body?.(err, f);
      } else if (row.body) {
        row.body(await res.json(), f);
      } else {
        await res.arrayBuffer();
      }
      expect(edge.unexpected).toEqual([]);
    });
  }
});
